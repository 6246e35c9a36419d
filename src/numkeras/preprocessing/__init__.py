"""``keras.preprocessing``: Keras 3's older spelling of some utilities.

>>> from numkeras.preprocessing import sequence
>>> sequence.pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""

from numkeras.preprocessing import image, sequence

__all__ = ["image", "sequence"]
