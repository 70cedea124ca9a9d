"""ddbstream placeholder while the package is assembled."""
