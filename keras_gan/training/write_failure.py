"""A failed write into a run directory (full disk, folder removed, ...) as one line that says
what is kept and how to go on."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import tensorflow as tf

from keras_gan.checkpoints import TrainingCheckpoint, latest_checkpoint, training_step
from keras_gan.files import TEMP_PREFIX
from keras_gan.gan import GAN
from keras_gan.training.exceptions import TrainingError

__all__ = ["failed_write", "write_failure"]

# TensorFlow's own file writers (TensorBoard's event files) report a failed write as an OpError
# whose message names the file and the OS's reason ("<path>; No space left on device"), not as
# an OSError; these are the reasons a write into the run directory fails with. Only paths in
# the run directory count: a data file that vanished is not a failed write.
_WRITE_REASONS = {
    os.strerror(code): code
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.ENOENT)
}
_TF_WRITE_ERROR = re.compile(r"(\S+); (" + "|".join(map(re.escape, _WRITE_REASONS)) + ")")


def failed_write(error: Exception, run_dir: Path) -> OSError | None:
    """`error` as an OSError: itself, or TensorFlow's report of a failed write in `run_dir`;
    `None` for any other error."""
    if isinstance(error, OSError):
        return error
    if isinstance(error, tf.errors.OpError):
        found = _TF_WRITE_ERROR.search(str(error.message))
        if found:
            path, reason = found.groups()
            if Path(path).resolve().is_relative_to(run_dir.resolve()):
                return OSError(_WRITE_REASONS[reason], reason, path)
    return None


def write_failure(
    error: OSError, run_dir: Path, gan: GAN, checkpointer: TrainingCheckpoint | None
) -> TrainingError:
    """One line for a failed write (full disk, folder removed, ...) that says what is kept."""
    where = str(run_dir)
    if error.filename:
        name = Path(str(error.filename)).name
        name = re.sub(rf"^{re.escape(TEMP_PREFIX)}\d+-[0-9a-f]+-", "", name)
        where = f"{name} in {run_dir}"
    reason = error.strerror or str(error)
    last = latest_checkpoint(run_dir) if checkpointer is not None else None
    kept = (
        f"the last complete checkpoint is {last.path.name} (step {last.step})"
        if last is not None
        else "no checkpoint was written"
    )
    return TrainingError(
        f"Cannot write to {where}: {reason}. Training stopped at step {training_step(gan)}; "
        f"{kept}. Free some space (or fix the folder), then continue with: "
        f"python train.py --resume {run_dir}"
    )
