from setuptools import setup, Extension

setup(name="pyimagebroken", version="1.0", ext_modules=[Extension("pyimagebroken_ext", ["ext.c"])])
