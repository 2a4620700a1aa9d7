"""The glmkit version (its own module: the file format records it without importing the
package)."""
__version__ = "0.1.0"
