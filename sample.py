"""Pictures from a trained generator: `python sample.py RUN_DIR --n 64 --out grid.png`.

The command lives in `keras_gan.cli.sample`; `keras-gan sample` runs the same one.
"""

import sys

from keras_gan.cli.sample import main

if __name__ == "__main__":
    sys.exit(main())
