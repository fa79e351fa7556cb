"""A training worker on a full disk, for the fault tests: `python -m tests.full_disk_worker`.

Every fsync fails as it does when the disk has no space left, so the checkpoint's write fails
at the point where a real full disk makes it fail.
"""

import errno
import os
import sys


def _no_space(fd: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


os.fsync = _no_space

from training.worker import main  # noqa: E402  (after the fault is in place)

sys.exit(main())
