"""The backprop page: one self-contained file, every number the engine's, in a real browser.

The browser tests use the `browser` fixture of conftest.py (headless Debian chromium).
"""

from __future__ import annotations

import html
import json
import math
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalargrad
from scalargrad import Value
from scalargrad.engine import gradients, topological_order
from scalargrad.nn import MLP
from scalargrad.oplang import FUNCTIONS
from scalargrad.ops import FUSED_OPS, OPS
from scalargrad.viz import Page, save_html, step_slider
from scalargrad.viz import html as viz_html
from scalargrad.viz.graph import format_number

MEGABYTE = 1_000_000
TIMES = "\N{MULTIPLICATION SIGN}"  # as the captions write it

# ---- graphs to show ----------------------------------------------------------------------


def neuron(x1: float = 2.0) -> Value:
    """The lecture's neuron, with x1 used twice so its two paths add up."""
    x1_, x2 = Value(x1, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1_ * w1 + x2 * w2 + b + x1_ * 0.1
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def every_op(x: float = 0.7, y: float = 1.3) -> Value:
    """One expression that uses every op of the table, and both fused ops."""
    a, b = Value(x, label="a"), Value(y, label="b")
    terms = [
        a + b, a - b, a * b, a / b, a**b, a**3, -a, a.exp(), b.log(), b.sqrt(),
        (a - 1.0).relu(), a.tanh(), a.sigmoid(), a.sin(), b.cos(), abs(a - b),
    ]  # fmt: skip
    used = {term.primitive.name for term in terms if term.primitive is not None}
    assert used == set(OPS), set(OPS) - used
    total = scalargrad.sum(terms[:8])
    neuron_out = scalargrad.dot(terms[8:12], terms[12:], bias=a)
    return total * neuron_out


def mlp_loss() -> Value:
    """One sample's squared error through MLP(2, [16, 16, 1]): about 400 Values."""
    prediction = MLP(2, [16, 16, 1], seed=0)([0.5, -1.0])
    assert isinstance(prediction, Value)  # one output
    return (prediction - 1.0) ** 2


# ---- the op table as JavaScript ------------------------------------------------------------


def test_every_op_of_the_table_has_generated_javascript() -> None:
    """The page's OPS has an entry, forward and derivatives, for every op and fused op."""
    source = viz_html.op_table_javascript()
    entries = re.findall(r"^  (\w+): \{\n    (?:fused: true,\n    )?forward: ", source, re.M)
    assert entries == [*OPS, *FUSED_OPS]
    for op in OPS.values():
        for expression in (op.forward, *(d for d in op.derivatives if d)):
            assert viz_html.javascript(expression) in source


def test_every_function_of_the_op_language_has_javascript(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A function added to the op language without JavaScript stops the page generator."""
    assert set(viz_html.javascript_functions()) == set(FUNCTIONS)
    monkeypatch.setitem(FUNCTIONS, "erf", math.erf)
    with pytest.raises(ValueError, match="no JavaScript for the op language's erf"):
        viz_html.javascript_functions()
    with pytest.raises(ValueError, match="no JavaScript for the function 'erf'"):
        viz_html.javascript("erf(x)")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("x ** 2.0", "Math.pow(x, 2.0)"),
        ("1.0 if x >= 0 else -1.0", "((x >= 0.0) ? 1.0 : (-1.0))"),
        ("x == 0 and 0 < y < 1", "((x === 0.0) && (0.0 < y && y < 1.0))"),
        ("max(x, 0.0) + sign(x) * step(y)", "(pyMax(x, 0.0) + (sign(x) * step(y)))"),
        ("y != round(y) or x != x", "((y !== pyRound(y)) || (x !== x))"),
    ],
)
def test_op_expressions_become_javascript_with_pythons_meaning(
    expression: str, expected: str
) -> None:
    """** is Math.pow, `a if c else b` is (c ? a : b), chained comparisons are split."""
    assert viz_html.javascript(expression) == expected


def test_the_fused_ops_add_left_to_right_as_the_engine_does() -> None:
    """dot adds w_i * x_i in order onto its bias; sum adds onto 0.0."""
    source = viz_html.op_table_javascript()
    dot = "addLeftToRight(b, w_i.length, (i) => (w_i[i] * x_i[i]))"
    assert f"forward: (x_i, w_i, b) => {dot}" in source
    assert "forward: (x_i, w_i, b) => addLeftToRight(0.0, x_i.length, (i) => x_i[i])" in source


# ---- the file -----------------------------------------------------------------------------


def test_the_page_is_one_file_that_needs_no_network() -> None:
    """No URL, no external script, style, font or image: everything is inline."""
    page = viz_html.page_html(neuron())
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|@import|url\(|<img\b", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    assert page.count("<svg") == 1


def test_the_page_holds_the_engines_numbers_exactly() -> None:
    """data, grads and edges are written as round-trip floats, in topological order."""
    o = neuron()
    page = viz_html.page_html(o)
    nodes = topological_order(o)
    grads = gradients(o)
    numbers = re.search(r"const GRAPH = (\{.*?\});\n", page, re.S)
    assert numbers is not None
    graph = json.loads(numbers.group(1))
    assert graph["data"] == [node.data for node in nodes]
    assert graph["grads"] == [grads[node] for node in nodes]
    assert graph["edges"] == [list(node.local_grads) for node in nodes]


def test_a_label_cannot_break_out_of_the_script() -> None:
    """A label with </script> or <!-- stays text: the page has one script element."""
    x = Value(1.0, label="</script><script>alert(1)</script><!--")
    page = viz_html.page_html(x * 2)
    assert page.count("</script>") == 1
    assert "alert(1)</script>" not in page.split("<script>", 1)[1]


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=40))
def test_any_label_reaches_the_page_as_it_is(label: str) -> None:
    """Whatever a label holds, the page's script gets it back unchanged, in one script."""
    x = Value(1.5, label=label)
    page = viz_html.page_html(x * 2)
    assert page.count("</script>") == 1
    numbers = re.search(r"const GRAPH = (\{.*?\});\n", page, re.S)
    assert numbers is not None
    assert json.loads(numbers.group(1))["nodes"][0]["label"] == label


def test_the_400_node_mlp_page_is_under_two_megabytes(tmp_path: Path) -> None:
    """The one-sample loss of MLP(2, [16, 16, 1]) gives a page of at most 2 MB."""
    loss = mlp_loss()
    assert 350 <= len(topological_order(loss)) <= 450
    path = save_html(loss, tmp_path / "mlp.html")
    assert path.stat().st_size <= 2 * MEGABYTE


def test_past_the_node_limit_the_page_says_so_and_offers_the_layer_view() -> None:
    """A graph over max_nodes gets a page that explains why and names draw_mlp."""
    x = Value(1.0, label="x")
    for _ in range(30):
        x = x * 1.01
    page = viz_html.page_html(x, max_nodes=50)
    assert "more than max_nodes=50" in page
    assert "draw_mlp(model)" in page
    assert "<svg" not in page
    assert len(topological_order(mlp_loss())) <= viz_html.MAX_NODES


def test_save_html_checks_the_path_before_any_work(
    tmp_path: Path, unwritable_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong name, a folder in the way or one that takes no file is refused before
    the graph is drawn."""

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page was made before the path was checked")

    monkeypatch.setattr(viz_html, "backprop_page", no_work)
    o = neuron()
    with pytest.raises(ValueError, match=r"name the file \*\.html, got '.*page\.png'"):
        save_html(o, tmp_path / "page.png")
    (tmp_path / "page.html").mkdir()
    with pytest.raises(ValueError, match=r"cannot write .*page\.html: it is a folder"):
        save_html(o, tmp_path / "page.html")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"file is a file, not a folder"):
        save_html(o, tmp_path / "file" / "page.html")
    with pytest.raises(ValueError, match=r"the folder .*locked takes no new file"):
        save_html(o, unwritable_folder / "page.html")
    with pytest.raises(TypeError, match="path must be a str or Path, got int"):
        save_html(o, 3)  # type: ignore[arg-type]


def test_save_html_makes_missing_folders_and_writes_the_whole_page(tmp_path: Path) -> None:
    """The page lands whole, in folders made for it; Page.save writes the same text."""
    o = neuron()
    path = save_html(o, tmp_path / "new" / "folder" / "page.html")
    assert path.read_text(encoding="utf-8") == viz_html.page_html(o)
    again = viz_html.backprop_page(o).save(tmp_path / "again.html")
    assert again.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_bad_arguments_are_refused_with_what_to_do() -> None:
    """Not a Value, a bad max_nodes, or a node made by hand each get a clear error."""
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        viz_html.page_html(1.0)
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        viz_html.page_html(neuron(), max_nodes=0)
    a = Value(2.0, label="a")
    by_hand = Value(a.data * 2, (a,), "double")
    with pytest.raises(ValueError, match=r"was made by hand.*build the expression from Value's"):
        viz_html.page_html(by_hand)


def test_step_slider_is_the_page_as_html_for_notebooks() -> None:
    """step_slider gives text/html (the page in an iframe) and the final SVG beside it."""
    page = step_slider(neuron(), local_grads=True)
    assert isinstance(page, Page)
    bundle = page._repr_mimebundle_()
    frame = bundle["text/html"]
    assert frame.startswith('<iframe srcdoc="') and 'title="backpropagation' in frame
    assert html.unescape(frame.split('srcdoc="', 1)[1].split('"', 1)[0]) == page.html
    assert bundle["image/svg+xml"].startswith("<?xml") and "grad 1" in bundle["image/svg+xml"]


def test_a_page_s_repr_is_one_short_line_not_the_html() -> None:
    """Jupyter keeps the repr as text/plain beside the page: it must not copy the page."""
    page = step_slider(neuron())
    assert re.fullmatch(r"<backprop page, \d+ KiB: \.save\('page\.html'\)>", repr(page))


# ---- in the browser ------------------------------------------------------------------------

READ_NODES = """
return Array.from(document.querySelectorAll('#graph g.node'))
  .map(g => [g.querySelector('title').textContent, Array.from(g.querySelectorAll('text'))])
  .filter(([id]) => /^v\\d+$/.test(id))
  .map(([id, t]) => [Number(id.slice(1)), t[t.length - 2].textContent,
                     t[t.length - 1].textContent]);
"""


def open_page(browser: Any, path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.open(path.as_uri())
    WebDriverWait(browser.driver, 20).until(
        lambda driver: driver.execute_script("return document.documentElement.dataset.ready")
    )


def press(browser: Any, key: str, times: int = 1) -> None:
    from selenium.webdriver.common.by import By

    body = browser.driver.find_element(By.TAG_NAME, "body")
    for _ in range(times):
        body.send_keys(key)


def shown(browser: Any) -> dict[int, tuple[str, str]]:
    """What each Value's box shows: (data text, grad text) by topological index."""
    return {k: (data, grad) for k, data, grad in browser.driver.execute_script(READ_NODES)}


def caption(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    text: str = browser.driver.find_element(By.ID, "caption").text
    return text


def page_state(browser: Any) -> dict[str, Any]:
    state: dict[str, Any] = browser.driver.execute_script("return window.backpropPage.state()")
    return state


def expect_engine(browser: Any, root: Value) -> None:
    """The page's numbers are the engine's to 1e-12, and shown as the pictures write them."""
    nodes = topological_order(root)
    grads = gradients(root)
    state = page_state(browser)
    assert state["data"] == pytest.approx([n.data for n in nodes], rel=1e-12, abs=1e-12)
    assert state["grads"] == pytest.approx([grads[n] for n in nodes], rel=1e-12, abs=1e-12)
    edges = [e for n in nodes for e in n.local_grads]
    assert [e for row in state["edges"] for e in row] == pytest.approx(edges, rel=1e-12, abs=1e-12)
    on_screen = shown(browser)
    for k, node in enumerate(nodes):
        expected = (f"data {format_number(node.data)}", f"grad {format_number(grads[node])}")
        assert on_screen[k] == expected


def edit_input(browser: Any, label: str, value: str) -> None:
    """Change an input with the keyboard alone: pick the leaf, type, press Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    choice = browser.driver.find_element(By.ID, "leaf")
    choice.send_keys(f"{label} =")  # typing picks the option that starts so
    assert browser.driver.execute_script(
        "const s = document.getElementById('leaf'); return s.options[s.selectedIndex].text"
    ).startswith(f"{label} =")
    choice.send_keys(Keys.TAB)
    field = browser.driver.switch_to.active_element
    assert field.get_attribute("id") == "value"
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(value, Keys.ENTER)


def test_stepping_with_the_keyboard_shows_the_engines_numbers(browser: Any, tmp_path: Path) -> None:
    """Forward fills in each data in turn; backward each grad; the end is the engine's."""
    from selenium.webdriver.common.keys import Keys

    o = neuron()
    nodes = topological_order(o)
    grads = gradients(o)
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    start = shown(browser)
    assert all(grad == "grad ?" for _, grad in start.values())
    computed = [k for k, node in enumerate(nodes) if node.parents]
    assert all(start[k][0] == "data ?" for k in computed)
    press(browser, Keys.ARROW_RIGHT)
    first = computed[0]
    assert shown(browser)[first][0] == f"data {format_number(nodes[first].data)}"
    assert "forward" in caption(browser)
    press(browser, Keys.ARROW_RIGHT, len(computed))  # to the last forward step, then the seed
    assert shown(browser)[len(nodes) - 1][1] == "grad 1"
    press(browser, Keys.ARROW_RIGHT, len(computed))
    assert (
        browser.driver.execute_script("return window.backpropPage.step()") == 2 * len(computed) + 1
    )
    expect_engine(browser, o)
    press(browser, Keys.ARROW_LEFT)
    assert shown(browser) != shown_at_end(o)
    press(browser, Keys.END)
    assert {k: g for k, (_, g) in shown(browser).items()} == {
        k: f"grad {format_number(grads[n])}" for k, n in enumerate(nodes)
    }


def shown_at_end(root: Value) -> dict[int, tuple[str, str]]:
    grads = gradients(root)
    return {
        k: (f"data {format_number(n.data)}", f"grad {format_number(grads[n])}")
        for k, n in enumerate(topological_order(root))
    }


def test_play_pause_and_the_slider_work_from_the_keyboard(browser: Any, tmp_path: Path) -> None:
    """Enter on Play runs the steps, Space pauses; arrows on the focused slider step."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser.driver
    open_page(browser, save_html(neuron(), tmp_path / "neuron.html"))
    play = driver.find_element(By.ID, "play")
    play.send_keys(Keys.ENTER)
    assert play.get_attribute("aria-pressed") == "true"
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return window.backpropPage.step()") >= 2
    )
    press(browser, " ")
    assert play.get_attribute("aria-pressed") == "false"
    paused_at = driver.execute_script("return window.backpropPage.step()")
    slider = driver.find_element(By.ID, "slider")
    slider.send_keys(Keys.ARROW_RIGHT)
    assert driver.execute_script("return window.backpropPage.step()") == paused_at + 1
    assert slider.get_attribute("value") == str(paused_at + 1)


def test_the_caption_writes_the_chain_rule_with_the_engines_numbers(
    browser: Any, tmp_path: Path
) -> None:
    """o = tanh(n): n.grad += o.grad times ∂o/∂n, with the numbers the engine computed."""
    from selenium.webdriver.common.keys import Keys

    o = neuron()
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    computed = sum(1 for node in topological_order(o) if node.parents)
    press(browser, Keys.ARROW_RIGHT, computed + 2)  # past forward and the seed: o's step
    edge = o.local_grads[0]
    assert (
        f"n.grad += o.grad {TIMES} ∂o/∂n = 1 {TIMES} {format_number(edge)} = "
        f"{format_number(1.0 * edge)}" in caption(browser)
    )


def test_a_reused_node_shows_each_path_and_the_running_sum(browser: Any, tmp_path: Path) -> None:
    """x1 is used twice: its box shows '(1 of 2)', then the caption adds the second path."""
    from selenium.webdriver.common.keys import Keys

    o = neuron()
    nodes = topological_order(o)
    x1 = next(k for k, node in enumerate(nodes) if node.label == "x1")
    grads = gradients(o)
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    press(browser, Keys.END)
    total = browser.driver.execute_script("return window.backpropPage.step()")
    press(browser, Keys.HOME)
    seen_partial = seen_sum = False
    for _ in range(total):
        press(browser, Keys.ARROW_RIGHT)
        grad_text = shown(browser)[x1][1]
        seen_partial |= grad_text.endswith("(1 of 2)")
        text = caption(browser)
        if "(path 2 of 2)" in text:
            seen_sum = True
            assert "x1.grad = " in text
            assert f"= {format_number(grads[nodes[x1]])}   (path 2 of 2)" in text
    assert seen_partial and seen_sum


def test_editing_an_input_recomputes_every_number_as_the_engine_does(
    browser: Any, tmp_path: Path
) -> None:
    """With every op of the table in the graph, a new input gives the engine's numbers."""
    from selenium.webdriver.common.keys import Keys

    open_page(browser, save_html(every_op(), tmp_path / "ops.html"))
    press(browser, Keys.END)
    expect_engine(browser, every_op())
    edit_input(browser, "a", "1.85")
    expect_engine(browser, every_op(x=1.85))
    edit_input(browser, "b", "2.5")
    expect_engine(browser, every_op(x=1.85, y=2.5))
    assert "recomputed in this page" in browser.driver.find_element("id", "source").text


def test_the_neuron_recomputed_in_the_page_matches_the_engine(browser: Any, tmp_path: Path) -> None:
    """The lecture's neuron with a new x1: data, grads and the captions follow."""
    from selenium.webdriver.common.keys import Keys

    open_page(browser, save_html(neuron(), tmp_path / "neuron.html"))
    edit_input(browser, "x1", "1.5")
    press(browser, Keys.END)
    o = neuron(x1=1.5)
    expect_engine(browser, o)
    computed = sum(1 for node in topological_order(o) if node.parents)
    press(browser, Keys.HOME)
    press(browser, Keys.ARROW_RIGHT, computed + 2)
    assert f"= 1 {TIMES} {format_number(o.local_grads[0])}" in caption(browser)


def test_an_input_outside_an_ops_domain_shows_the_engines_message(
    browser: Any, tmp_path: Path
) -> None:
    """b = -1 makes log(b) undefined: the page says so as the engine does, keeps its numbers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = every_op()
    open_page(browser, save_html(root, tmp_path / "ops.html"))
    with pytest.raises(ValueError) as engine_error:
        every_op(y=-1.0)
    edit_input(browser, "b", "-1")
    error = browser.driver.find_element(By.ID, "error").text
    assert str(engine_error.value) in error and "left as they were" in error
    press(browser, Keys.END)
    expect_engine(browser, root)
    edit_input(browser, "a", "twelve")
    assert '"twelve" is not a number' in browser.driver.find_element(By.ID, "error").text


def test_every_generated_op_agrees_with_the_engine_in_the_browser(
    browser: Any, tmp_path: Path
) -> None:
    """Each op's JavaScript forward and derivatives give the engine's floats to 1e-12."""
    open_page(browser, save_html(neuron(), tmp_path / "neuron.html"))
    points = [(0.7, 1.3), (2.5, -0.5), (-1.25, 3.0), (0.0, 2.0), (1e-3, 4.0)]
    for name, op in OPS.items():
        for x, y in points:
            inputs = (x, y)[: op.arity]
            try:
                out, edges = op.evaluate(*inputs)
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            expected = [out, *edges]
            got = browser.driver.execute_script(
                "const op = OPS[arguments[0]]; const xs = arguments[1];"
                "const out = op.forward(...xs);"
                "return [out, ...op.derivatives.map(d => d === null ? 0.0 : d(...xs, out))];",
                name,
                list(inputs),
            )
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), (name, inputs)


def test_numbers_are_written_as_the_pictures_write_them(browser: Any, tmp_path: Path) -> None:
    """The page's formatNumber equals viz.graph.format_number, halves to even included."""
    open_page(browser, save_html(neuron(), tmp_path / "neuron.html"))
    rng = random.Random(12)
    numbers = [
        0.0, -0.0, 1.0, -1.2, 0.9151, 1.0625, 1.0635, 2.5, 12.125, 0.00012345, 1e-5, 123456.0,
        9999.5, 9.9995, 0.5, 1e300, -2.2250738585072014e-308, 5e-324, 1.7976931348623157e308,
    ]  # fmt: skip
    numbers += [rng.uniform(-10, 10) * 10 ** rng.randint(-8, 8) for _ in range(400)]
    numbers += [rng.randint(-20000, 20000) / 16 for _ in range(200)]
    got = browser.driver.execute_script(
        "return arguments[0].map(window.backpropPage.formatNumber)", numbers
    )
    assert got == [format_number(x) for x in numbers]


def test_the_page_requests_nothing_from_the_network(browser: Any, tmp_path: Path) -> None:
    """Opened from disk, stepped and edited, the page asks for no URL beyond the file."""
    from selenium.webdriver.common.keys import Keys

    path = save_html(every_op(), tmp_path / "ops.html")
    open_page(browser, path)
    press(browser, Keys.ARROW_RIGHT, 5)
    edit_input(browser, "a", "0.25")
    press(browser, Keys.END)
    assert browser.network_requests() == []
    assert browser.requested_urls()[0] == path.as_uri()


def test_a_screenshot_of_the_page_shows_a_coloured_graph(browser: Any, tmp_path: Path) -> None:
    """At the last step, the screenshot is not blank: text, boxes and gradient colours.

    With SCALARGRAD_SCREENSHOT=path the picture is also saved there (docs/backprop_page.py).
    """
    from selenium.webdriver.common.keys import Keys

    browser.driver.set_window_size(1100, 620)
    o = neuron()
    open_page(browser, save_html(o, tmp_path / "neuron.html", title="A neuron, step by step"))
    press(browser, Keys.END)  # the last step: x1's second path adds to its first
    assert "(path 2 of 2)" in caption(browser)
    picture = browser.screenshot()
    colours = picture.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    white = sum(count for count, rgb in colours if rgb == (255, 255, 255))
    assert white < 0.9 * picture.width * picture.height
    blue = sum(count for count, (r, g, b) in colours if b > r + 40)
    assert blue > 500  # gradient fills (positive grads are blue)
    target = os.environ.get("SCALARGRAD_SCREENSHOT")
    if target:
        picture.save(target, optimize=True)


def test_the_400_node_page_opens_and_steps(browser: Any, tmp_path: Path) -> None:
    """The MLP's loss page gets ready and its last step shows the engine's gradients."""
    from selenium.webdriver.common.keys import Keys

    loss = mlp_loss()
    open_page(browser, save_html(loss, tmp_path / "mlp.html"))
    press(browser, Keys.END)
    expect_engine(browser, loss)


def test_the_notebook_frame_runs_the_page(browser: Any, tmp_path: Path) -> None:
    """The iframe that step_slider shows in Jupyter runs the page: keys step it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    o = neuron()
    notebook = tmp_path / "notebook.html"
    notebook.write_text(f"<!DOCTYPE html><p>output:</p>{step_slider(o).iframe()}")
    browser.open(notebook.as_uri())
    frame = browser.driver.find_element(By.TAG_NAME, "iframe")
    browser.driver.switch_to.frame(frame)
    WebDriverWait(browser.driver, 20).until(
        lambda driver: driver.execute_script("return document.documentElement.dataset.ready")
    )
    browser.driver.switch_to.default_content()
    press(browser, Keys.TAB)  # from the notebook into the page, as a keyboard user goes
    browser.driver.switch_to.frame(frame)
    focused = browser.driver.switch_to.active_element
    assert focused.get_attribute("id") == "previous"
    focused.send_keys(Keys.END)
    expect_engine(browser, o)
    assert browser.network_requests() == []


def test_without_scripts_the_final_picture_stands_in(browser: Any, tmp_path: Path) -> None:
    """In a frame where scripts may not run, the graph after backward() shows, controls hidden."""
    from selenium.webdriver.common.by import By

    o = neuron()
    page = viz_html.page_html(o)
    wrapper = tmp_path / "no_scripts.html"
    wrapper.write_text(f'<iframe sandbox srcdoc="{html.escape(page, quote=True)}"></iframe>')
    browser.open(wrapper.as_uri())
    browser.driver.switch_to.frame(browser.driver.find_element(By.TAG_NAME, "iframe"))
    assert browser.driver.execute_script("return document.documentElement.dataset.ready") is None
    assert shown(browser) == shown_at_end(o)
    assert not browser.driver.find_element(By.ID, "controls").is_displayed()
