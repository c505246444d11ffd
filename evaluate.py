"""Score a trained generator: `python evaluate.py RUN_DIR_OR_GENERATOR --dataset NAME`.

The command lives in `keras_gan.cli.evaluate`; `keras-gan evaluate` runs the same one.
"""

import sys

from keras_gan.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
