"""LiveView: fit's callback drawing training as frames, shown in Jupyter, saved as GIF or HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from scalargrad import MLP, fit
from scalargrad.data import digits, moons
from scalargrad.viz import LiveView
from scalargrad.viz.live import MAX_WIDTH


@pytest.fixture(scope="module")
def trained_view() -> LiveView:
    """A view that watched 6 epochs of a small MLP on moons, a frame every 2 epochs."""
    X, y = moons(40, seed=0)
    view = LiveView(X, y)
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=6, progress=False, callback=view, every=2)
    return view


def test_the_view_draws_one_frame_per_callback_no_wider_than_a_slide(
    trained_view: LiveView,
) -> None:
    """Epochs 2, 4 and 6 give three frames, each at most 1280 px wide."""
    assert len(trained_view.frames) == 3
    assert all(frame.width <= MAX_WIDTH for frame in trained_view.frames)


def test_the_frames_change_as_the_model_learns(trained_view: LiveView) -> None:
    """The loss curve, boundary and gradients differ from frame to frame."""
    first, last = trained_view.frames[0], trained_view.frames[-1]
    assert first.tobytes() != last.tobytes()


def test_outside_jupyter_the_view_shows_nothing_by_default(trained_view: LiveView) -> None:
    """In a plain Python process nothing is displayed; the frames are only kept."""
    assert trained_view.show is False


def test_the_gif_holds_every_frame(trained_view: LiveView, tmp_path: Path) -> None:
    """save_gif writes an animated GIF with one image per frame."""
    path = trained_view.save_gif(tmp_path / "training.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 3
        assert gif.width <= MAX_WIDTH


def test_the_html_page_holds_every_frame_and_needs_no_network(
    trained_view: LiveView, tmp_path: Path
) -> None:
    """save_html writes one page with each frame inline and a slider over them."""
    page = trained_view.save_html(tmp_path / "training.html").read_text()
    assert len(re.findall(r'<img alt="frame \d+" src="data:image/png;base64,', page)) == 3
    assert 'type="range"' in page
    assert "http://" not in page and "https://" not in page


def test_data_with_more_than_two_features_gets_no_boundary_panel() -> None:
    """Digits (64 pixels) have no plane to draw a boundary on: the loss alone is drawn
    above the layers, and the frame is narrower than with a boundary."""
    X, y = digits(20, seed=0)
    view = LiveView(X, y, layers=False)
    fit(MLP(64, [10], seed=0), X, y, epochs=1, progress=False, callback=view)
    X2, y2 = moons(20, seed=0)
    with_boundary = LiveView(X2, y2, layers=False)
    fit(MLP(2, [10], seed=0), X2, y2, epochs=1, progress=False, callback=with_boundary)
    assert view.frames[0].width < with_boundary.frames[0].width


@pytest.mark.parametrize(
    ("save", "name", "message"),
    [
        ("save_gif", "training.png", r"name the file \*\.gif"),
        ("save_html", "training.htm", r"name the file \*\.html"),
    ],
)
def test_a_file_name_of_the_wrong_kind_is_refused(
    trained_view: LiveView, tmp_path: Path, save: str, name: str, message: str
) -> None:
    """Each export checks its file's extension before writing anything."""
    with pytest.raises(ValueError, match=message):
        getattr(trained_view, save)(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_saving_before_any_frame_says_to_pass_the_view_to_fit(tmp_path: Path) -> None:
    """A view that has drawn nothing cannot be saved, and says why."""
    X, y = moons(10, seed=0)
    with pytest.raises(ValueError, match=r"no frames yet; pass the view to fit"):
        LiveView(X, y).save_gif(tmp_path / "empty.gif")


def test_x_and_y_of_different_lengths_are_refused() -> None:
    """LiveView checks its data as fit does: one label per sample."""
    with pytest.raises(ValueError, match=r"same number of samples"):
        LiveView([[0.0, 1.0]], [0, 1])
