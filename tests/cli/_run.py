"""Run the command line in-process and capture what it printed."""

from napari_colorgan.cli import main


def run_cli(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``napari-colorgan *argv``."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err
