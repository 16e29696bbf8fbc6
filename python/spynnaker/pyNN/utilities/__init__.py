"""sPyNNaker's utilities that scripts use: neo_convertor."""
