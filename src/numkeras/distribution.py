"""``keras.distribution``: Keras 3's name for numkeras's MPI data parallelism (distribute/).

>>> import numkeras as keras
>>> keras.distribution.list_devices()   # one per process; ['cpu:0'] without mpiexec
['cpu:0']
"""

from numkeras.distribute import (  # noqa: F401 - re-exported
    DataParallel, distribution, initialize, list_devices, set_distribution)

__all__ = ["DataParallel", "distribution", "initialize", "list_devices", "set_distribution"]
