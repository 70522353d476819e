"""Everything about the package is in pyproject.toml; this file only adds the optional C build of
the evidence chain check (lms/evidence/_chainscan.c). Without a C compiler or OpenSSL's headers
the build is skipped and verification runs the same check in Python, more slowly."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("lms.evidence._chainscan", ["lms/evidence/_chainscan.c"], libraries=["crypto"],
                             optional=True)])
