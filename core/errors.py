"""Errors with messages meant for users: they name the parameter, file or column at fault."""


class HybridlabError(ValueError):
    """Bad input from a user (declaration, file, column, option). The CLI prints it as one line."""


class ParameterError(HybridlabError):
    """A parameter declaration or role assignment is invalid."""


class DataError(HybridlabError):
    """A data file or data set cannot be used as given."""


class DivergenceError(HybridlabError):
    """Training diverged: a loss or prediction became NaN or infinite. No model is kept."""
