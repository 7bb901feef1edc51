import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from motionflow.utils.processes import empty_main_module
from tests.utils.process_probe import loaded_modules


def test_workers_started_inside_do_not_import_the_parents_main_module():
    main = sys.modules["__main__"]
    with empty_main_module():
        assert not hasattr(sys.modules["__main__"], "__file__")
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            modules = pool.submit(loaded_modules).result()
    assert sys.modules["__main__"] is main
    assert "torch" not in modules and "pytest" not in modules
