"""The colorization model: what it is, how it is stored, how it is applied.

``config`` holds the frozen architecture settings and presets; ``networks`` the U-Net generator
and PatchGAN critic; ``vgg`` our VGG19 feature extractor (torchvision parameter names) and
``vgg_install`` the installer of downloaded weights, ``vgg_fetch`` their download on request
(resumable, hash checked); ``normalize`` the input scaling stored with each model;
``pixel_size`` the training pixel size and the pyramid level matching it; ``colorizer`` the
:class:`Colorizer` that bundles them; ``file`` the safetensors model file (no pickle);
``pix2pix_import`` the reader of the reference pix2pix code's generators; ``bioimageio`` the
bioimage.io export, with ``bioimageio_descr`` (its description) and ``bioimageio_files`` (its
test data, cover and README). Nothing here trains or tiles.
"""
