"""Train a GAN: `python train.py --dataset mnist` (all flags: `python train.py --help`).

The command lives in `keras_gan.cli.train`; `keras-gan train` runs the same one.
"""

import sys

from keras_gan.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
