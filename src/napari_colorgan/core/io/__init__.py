"""Reading and writing files: lazy image readers and atomic writes.

``images`` opens TIFF, zarr/OME-Zarr, NPY, PNG/JPEG and FITS as arrays read only where indexed;
``axes`` reads their axis names, units and pixel sizes; ``layout`` arranges the stored axes by
their names into (..., y, x) or (..., y, x, 3); ``fingerprint`` hashes a cheap sample of an
input so a store knows what it holds; ``atomic`` writes any file through a temporary neighbour
and a rename, and replaces folders whole, so a crash never leaves a half-written result;
``lock`` lets one run at a time write an output; ``selection`` parses and checks plane ranges
(``"0:20"``) once for the CLI, the widgets and scripts.
"""
