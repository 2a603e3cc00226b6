"""Training on annotated stacks.

``config`` is :class:`TrainConfig`, the one place training settings and their defaults live;
``data`` turns a stack plus RGB truth or labels and a palette into patches, ``anchors`` finds
where labelled pixels are and ``sampler`` draws augmented batches; ``lightness`` fits the input
stretch to a colour target's lightness; ``losses`` the adversarial, fitting (L2, L1, Huber) and
perceptual terms; ``step`` one pix2pix update and its learning-rate schedule; ``run`` the
state of one run; ``loop`` the event generator ``train_iter``; ``preview`` the region-in-view
previews; ``suggest`` where to paint next (the least confident cells in view); ``live``
labels painted while it trains; ``calibrate`` the colour calibration after
it; ``checkpoint`` exact resume, with ``resume`` saying what a resume keeps, applies or
refuses; and ``distributed`` data-parallel runs under ``torchrun``.
"""
