import pytest
import torch


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """Training sets torch's thread count from its config (`optim.cpu_threads`); put it back after."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
