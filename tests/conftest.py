"""Loading this file puts the folder that holds the `tests` package on sys.path, so that test folders
which are not packages (tests/baselines: a package of that name would shadow the real `baselines`)
can share helpers by absolute import, e.g. `from tests.models.helpers import TINY_BACKBONE`."""
