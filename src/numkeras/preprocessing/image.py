"""``keras.preprocessing.image``: Keras 3's older spelling of the image-file utilities (the
same functions as ``keras.utils.array_to_img`` ...); tf.keras course code and the tf.keras
training-loop guide call ``keras.preprocessing.image.array_to_img``.

>>> import numpy as np
>>> from numkeras.preprocessing import image
>>> image.img_to_array(np.zeros((2, 2, 1))).shape
(2, 2, 1)
"""

from numkeras.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
