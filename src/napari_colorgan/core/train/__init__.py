"""Training on annotated stacks.

``config`` is :class:`TrainConfig`, the one place training settings and their defaults live;
``data`` turns a stack plus RGB truth or labels and a palette into patches; ``losses`` the
adversarial, L1 and perceptual terms; ``step`` one pix2pix update and its learning-rate
schedule; ``loop`` the event generator ``train_iter``; ``checkpoint`` exact resume; and
``distributed`` data-parallel runs under ``torchrun``.
"""
