"""IR -> IR transforms: jvp, partial evaluation, transpose, dead-code elimination."""
