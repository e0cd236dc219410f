// The step-through page's script. GRAPH (the engine's numbers), COLOURS (viz.graph's)
// and OPS (the op table, generated from scalargrad.ops) are defined above it.

// ---- the prelude: the op language's functions that Math lacks, as Python has them ----

// Python's max(a, b): the first argument unless the second is larger (so NaN stays put).
function pyMax(a, b) { return b > a ? b : a; }

// Python's round(x): halves go to the even neighbour.
function pyRound(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// The derivatives of abs and relu, as in scalargrad.ops.FUNCTIONS: 0 at the kink, NaN stays NaN.
function sign(x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x * 0.0; }
function step(x) { return x > 0 ? 1.0 : x !== x ? x * 0.0 : 0.0; }

// A fused op's sum, as the engine adds it: term(0), term(1), ... onto `start`, left to right.
function addLeftToRight(start, n, term) {
  let total = start;
  for (let i = 0; i < n; i++) total += term(i);
  return total;
}

// ---- numbers as the pictures write them -----------------------------------------------

// Python's format_number (viz.graph): "{:.4g}" with halves to even, 0 for -0.0.
function formatNumber(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return "0";
  const precision = 4;
  const [digits, exponent] = roundedDigits(Math.abs(x), precision);
  let text;
  if (exponent >= -4 && exponent < precision) {
    let whole, fraction;
    if (exponent >= 0) {
      whole = digits.slice(0, exponent + 1);
      fraction = digits.slice(exponent + 1);
    } else {
      whole = "0";
      fraction = "0".repeat(-exponent - 1) + digits;
    }
    fraction = fraction.replace(/0+$/, "");
    text = fraction ? `${whole}.${fraction}` : whole;
  } else {
    const fraction = digits.slice(1).replace(/0+$/, "");
    const power = String(Math.abs(exponent)).padStart(2, "0");
    text = `${digits[0]}${fraction ? "." + fraction : ""}e${exponent < 0 ? "-" : "+"}${power}`;
  }
  return x < 0 ? "-" + text : text;
}

// The first `precision` significant digits of a > 0, rounded to nearest, and its power of 10.
// toExponential rounds an exact half up, Python to even; 101 digits show a half exactly.
function roundedDigits(a, precision) {
  const [longMantissa, longExponent] = a.toExponential(100).split("e");
  const long = longMantissa.replace(".", "");
  const kept = long.slice(0, precision);
  if (/^50*$/.test(long.slice(precision)) && Number(kept[precision - 1]) % 2 === 0) {
    return [kept, Number(longExponent)];
  }
  const [mantissa, exponent] = a.toExponential(precision - 1).split("e");
  return [mantissa.replace(".", ""), Number(exponent)];
}

// Python's repr of a float, for the engine's error messages ("got -1.0").
function pyRepr(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [mantissa, exponent] = x.toExponential().split("e");
    return `${mantissa}e${exponent[0]}${exponent.slice(1).padStart(2, "0")}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

// ---- the graph's numbers: the engine's, or recomputed here from the op table ----------

const NODES = GRAPH.nodes;
const COUNT = NODES.length;
const ROOT = COUNT - 1;
const ENGINE = { data: GRAPH.data, grads: GRAPH.grads, edges: GRAPH.edges };
let state = { data: ENGINE.data.slice(), grads: ENGINE.grads.slice(), edges: ENGINE.edges };

// How many edges lead into each node: a node with more than one sums its paths.
const PATHS = new Array(COUNT).fill(0);
for (const node of NODES) for (const p of node.parents) PATHS[p] += 1;

function fillMessage(template, op, inputs) {
  const names = { x: inputs[0], y: inputs[1] };
  return template.replace(/\{(\w+)!r\}/g, (_, name) => pyRepr(names[name]));
}

function written(op, inputs) {
  return op.written.replace(/\{(\w+)\}/g, (_, name) => inputs[name === "x" ? 0 : 1]);
}

function fusedArguments(node, inputs) {
  const roles = { x_i: [], w_i: [], b: 0.0 };
  node.roles.forEach(([role, i], j) => {
    if (role === "b") roles.b = inputs[j];
    else roles[role][i] = inputs[j];
  });
  return roles;
}

// One node's output and edges (d out / d parent), or an Error with the engine's message.
function evaluate(node, inputs) {
  const op = OPS[node.op];
  if (op.fused) {
    const { x_i, w_i, b } = fusedArguments(node, inputs);
    const out = op.forward(x_i, w_i, b);
    return [out, node.roles.map(([role, i]) => op.derivatives[role](i, x_i, w_i, b, out))];
  }
  for (const [fails, message] of op.errors) {
    if (fails(...inputs)) throw new Error(fillMessage(message, op, inputs));
  }
  const out = op.forward(...inputs);
  if (!(out - out === 0) && inputs.every((x) => x - x === 0)) {
    throw new Error(`${op.symbol}: ${written(op, inputs.map(pyRepr))} is too large for a float`);
  }
  const edges = op.derivatives.map((d) => (d === null ? 0.0 : d(...inputs, out)));
  return [out, edges];
}

// The engine's gradient walk: newest node first, each adds grad × edge to its parents'.
function gradientWalk(edges) {
  const grads = new Array(COUNT).fill(0.0);
  grads[ROOT] = 1.0;
  for (let k = COUNT - 1; k >= 0; k--) {
    NODES[k].parents.forEach((p, j) => { grads[p] += grads[k] * edges[k][j]; });
  }
  return grads;
}

function recompute(leafData) {
  const data = new Array(COUNT);
  const edges = new Array(COUNT);
  for (let k = 0; k < COUNT; k++) {
    const node = NODES[k];
    if (node.parents.length === 0) {
      data[k] = leafData[k];
      edges[k] = [];
    } else {
      [data[k], edges[k]] = evaluate(node, node.parents.map((p) => data[p]));
    }
  }
  return { data, grads: gradientWalk(edges), edges };
}

// ---- the steps --------------------------------------------------------------------------

const OP_NODES = [];
for (let k = 0; k < COUNT; k++) if (NODES[k].parents.length) OP_NODES.push(k);
const STEPS = [{ kind: "start", node: null }];
for (const k of OP_NODES) STEPS.push({ kind: "forward", node: k });
STEPS.push({ kind: "seed", node: ROOT });
for (const k of OP_NODES.slice().reverse()) STEPS.push({ kind: "backward", node: k });
const SEED_STEP = OP_NODES.length + 1;

// The name of a node in a caption: its label, or what its op calls it (out, x, y, w_3).
function nameOf(k, fallback) { return NODES[k].label || fallback; }

function inputNames(k) {
  const node = NODES[k];
  if (OPS[node.op].fused) {
    return node.parents.map((p, j) => {
      const [role, i] = node.roles[j];
      return nameOf(p, role === "b" ? "b" : role.replace("_i", "_" + i));
    });
  }
  return node.parents.map((p, j) => nameOf(p, j === 0 ? "x" : "y"));
}

function opText(k, inputs) {
  const op = OPS[NODES[k].op];
  if (op.fused) {
    const terms = NODES[k].roles.filter(([role]) => role === "x_i").length;
    return `${op.written} over ${terms} terms`;
  }
  return written(op, inputs);
}

// What the page shows at step `s`: which data are known, and each grad so far.
function snapshot(s) {
  const step = STEPS[s];
  const forwardDone = s >= SEED_STEP ? OP_NODES.length : s;
  const known = new Array(COUNT).fill(false);
  for (let k = 0; k < COUNT; k++) if (!NODES[k].parents.length) known[k] = true;
  for (let i = 0; i < forwardDone; i++) known[OP_NODES[i]] = true;
  const grads = new Array(COUNT).fill(undefined);
  const arrived = new Array(COUNT).fill(0);
  const lines = [];
  if (s >= SEED_STEP) grads[ROOT] = 1.0;
  for (let t = SEED_STEP + 1; t <= s; t++) {
    const k = STEPS[t].node;
    const names = inputNames(k);
    const out = nameOf(k, "out");
    const isCurrent = t === s;
    NODES[k].parents.forEach((p, j) => {
      const edge = state.edges[k][j];
      const share = grads[k] * edge;
      const before = grads[p];
      grads[p] = (before === undefined ? 0.0 : before) + share;
      arrived[p] += 1;
      if (!isCurrent) return;
      const n = names[j];
      const fixed = !OPS[NODES[k].op].fused && OPS[NODES[k].op].derivatives[j] === null;
      lines.push(`${n}.grad += ${out}.grad × ∂${out}/∂${n} = ${formatNumber(grads[k])} × ` +
        `${formatNumber(edge)} = ${formatNumber(share)}${fixed ? "   (a fixed number: no gradient flows to it)" : ""}`);
      if (PATHS[p] > 1 && before !== undefined) {
        lines.push(`    ${n}.grad = ${formatNumber(before)} + ${formatNumber(share)} = ` +
          `${formatNumber(grads[p])}   (path ${arrived[p]} of ${PATHS[p]})`);
      } else if (PATHS[p] > 1) {
        lines.push(`    path 1 of ${PATHS[p]} into ${n}: its grad so far is ${formatNumber(share)}`);
      }
    });
  }
  return { step, known, grads, arrived, lines };
}

function caption(s, view) {
  const { step } = view;
  const where = `Step ${s} of ${STEPS.length - 1}`;
  if (step.kind === "start") {
    const leaves = [];
    for (let k = 0; k < COUNT; k++) {
      if (!NODES[k].parents.length) leaves.push(`${nameOf(k, "·")} = ${formatNumber(state.data[k])}`);
    }
    const shown = leaves.length > 8 ? leaves.slice(0, 8).join(", ") + `, … (${leaves.length} in all)` : leaves.join(", ");
    return `${where}: the inputs hold their data: ${shown}.\nNext: the forward pass, one op at a time.`;
  }
  const k = step.node;
  const out = nameOf(k, "out");
  if (step.kind === "forward") {
    const names = inputNames(k);
    const values = NODES[k].parents.map((p) => formatNumber(state.data[p]));
    const numbers = OPS[NODES[k].op].fused ? "" : ` = ${opText(k, values)}`;
    return `${where}, forward: ${out} = ${opText(k, names)}${numbers} = ${formatNumber(state.data[k])}`;
  }
  if (step.kind === "seed") {
    return `${where}, backward starts: ${out}.grad = ∂${out}/∂${out} = 1`;
  }
  const header = `${where}, backward: ${out} = ${opText(k, inputNames(k))} hands its grad to its inputs`;
  return [header, ...view.lines].join("\n");
}

// ---- the picture ------------------------------------------------------------------------

const svg = document.querySelector("#graph svg");
const boxes = new Array(COUNT);   // per node: shape, data text, grad text
const opShapes = new Array(COUNT);
const edgeGroups = new Map();     // "v3->v5op" -> the edge groups with that title, in order
for (const group of svg.querySelectorAll("g.node")) {
  const id = group.querySelector("title").textContent;
  const match = /^v(\d+)(op)?$/.exec(id);
  if (!match) continue;
  const k = Number(match[1]);
  const shape = group.querySelector("path, polygon, ellipse");
  if (match[2]) {
    opShapes[k] = shape;
  } else {
    const texts = group.querySelectorAll("text");
    boxes[k] = { shape, data: texts[texts.length - 2], grad: texts[texts.length - 1] };
  }
}
for (const group of svg.querySelectorAll("g.edge")) {
  const id = group.querySelector("title").textContent;
  if (!edgeGroups.has(id)) edgeGroups.set(id, []);
  edgeGroups.get(id).push(group);
}
// Each node's edges: from each parent into its op, and from the op to the node.
const inEdges = NODES.map((node, k) => {
  const seen = new Map();
  const fromParents = node.parents.map((p) => {
    const id = `v${p}->v${k}op`;
    const n = seen.get(id) || 0;
    seen.set(id, n + 1);
    return (edgeGroups.get(id) || [])[n];
  });
  return { fromParents, fromOp: (edgeGroups.get(`v${k}op->v${k}`) || [])[0] };
});

function remember(element) {
  if (!element) return;
  for (const part of element.querySelectorAll ? element.querySelectorAll("path, polygon, ellipse") : []) {
    part.dataset.stroke = part.getAttribute("stroke") || "black";
    part.dataset.width = part.getAttribute("stroke-width") || "1";
  }
}

// A text keeps its centre; one that outgrows its cell is squeezed, so nothing moves.
// Every text is measured before any is changed: one layout, not one per text.
const valueTexts = boxes.filter(Boolean).flatMap((box) => [box.data, box.grad]);
const textBoxes = valueTexts.map((text) => text.getBBox());
valueTexts.forEach((text, i) => {
  const box = textBoxes[i];
  text.setAttribute("text-anchor", "middle");
  text.setAttribute("x", box.x + box.width / 2);
  text.dataset.room = Math.max(box.width, 62);
});
for (const box of boxes) if (box) box.shape.dataset.stroke = box.shape.getAttribute("stroke") || "black";
for (const group of edgeGroups.values()) group.forEach(remember);
for (const shape of opShapes) if (shape) remember(shape.parentNode);

function fillFor(grad, scale) {
  if (!Number.isFinite(grad)) return COLOURS.nonFinite;
  if (grad === 0 || scale === 0) return "#ffffff";
  const strength = 0.12 + 0.6 * Math.sqrt(Math.min(1.0, Math.abs(grad) / scale));
  const rgb = grad > 0 ? COLOURS.positive : COLOURS.negative;
  return "#" + rgb.map((c) => Math.round(255 + (c - 255) * strength).toString(16).padStart(2, "0")).join("");
}

function colourScale(grads) {
  let scale = 0.0;
  for (const g of grads) if (Number.isFinite(g)) scale = Math.max(scale, Math.abs(g));
  return scale;
}

function mark(group, on) {
  if (!group) return;
  for (const part of group.querySelectorAll("path, polygon, ellipse")) {
    part.setAttribute("stroke", on ? COLOURS.highlight : part.dataset.stroke);
    part.setAttribute("stroke-width", on ? "2.5" : part.dataset.width);
  }
}

const graphBox = document.getElementById("graph");

// Scroll the graph (not the page) so that a node in a large graph comes into view.
function reveal(element) {
  const view = graphBox.getBoundingClientRect();
  const box = element.getBoundingClientRect();
  if (box.top < view.top || box.bottom > view.bottom) {
    graphBox.scrollTop += (box.top + box.bottom - view.top - view.bottom) / 2;
  }
  if (box.left < view.left || box.right > view.right) {
    graphBox.scrollLeft += (box.left + box.right - view.left - view.right) / 2;
  }
}

let highlighted = null;
function highlight(k) {
  if (highlighted !== null) setHighlight(highlighted, false);
  highlighted = k;
  if (k !== null) {
    setHighlight(k, true);
    reveal(boxes[k].shape);
  }
}
function setHighlight(k, on) {
  const box = boxes[k];
  box.shape.setAttribute("stroke", on ? COLOURS.highlight : box.shape.dataset.stroke);
  box.shape.setAttribute("stroke-width", on ? "3" : "1");
  if (opShapes[k]) mark(opShapes[k].parentNode, on);
  inEdges[k].fromParents.forEach((group) => mark(group, on));
  mark(inEdges[k].fromOp, on);
}

function draw(view) {
  const scale = colourScale(state.grads);
  const backward = view.step.kind === "seed" || view.step.kind === "backward";
  const texts = [];
  for (let k = 0; k < COUNT; k++) {
    const box = boxes[k];
    const grad = view.grads[k];
    const gradText = grad === undefined ? "grad ?"
      : view.arrived[k] < PATHS[k] && k !== ROOT
        ? `grad ${formatNumber(grad)} (${view.arrived[k]} of ${PATHS[k]})`
        : `grad ${formatNumber(grad)}`;
    texts.push([box.data, view.known[k] ? `data ${formatNumber(state.data[k])}` : "data ?"]);
    texts.push([box.grad, gradText]);
    let fill = view.known[k] ? "#ffffff" : COLOURS.unknown;
    if (backward) fill = grad === undefined ? "#ffffff" : fillFor(grad, scale);
    box.shape.setAttribute("fill", fill);
    box.shape.setAttribute("stroke-dasharray", fill === COLOURS.nonFinite ? "5,2" : "");
  }
  // Write every text, then measure them all: one layout, not one per text.
  const changed = texts.filter(([text, shown]) => text.textContent !== shown);
  for (const [text, shown] of changed) {
    text.textContent = shown;
    text.removeAttribute("textLength");
    text.removeAttribute("lengthAdjust");
  }
  const widths = changed.map(([text]) => text.getComputedTextLength());
  changed.forEach(([text], i) => {
    if (widths[i] > Number(text.dataset.room)) {
      text.setAttribute("textLength", text.dataset.room);
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  });
  highlight(view.step.node);
}

function drawEdgeLabels() {
  if (!GRAPH.localGrads) return;
  NODES.forEach((node, k) => inEdges[k].fromParents.forEach((group, j) => {
    const text = group && group.querySelector("text");
    if (text) text.textContent = formatNumber(state.edges[k][j]);
  }));
}

// ---- the controls -----------------------------------------------------------------------

const slider = document.getElementById("slider");
const position = document.getElementById("position");
const captionBox = document.getElementById("caption");
const playButton = document.getElementById("play");
let current = 0;
let timer = null;

function go(s) {
  current = Math.max(0, Math.min(STEPS.length - 1, s));
  const view = snapshot(current);
  draw(view);
  captionBox.textContent = caption(current, view);
  slider.value = String(current);
  const phase = current === 0 ? "inputs" : current < SEED_STEP ? "forward pass" : "backward pass";
  position.textContent = `step ${current} of ${STEPS.length - 1} · ${phase}`;
  if (current === STEPS.length - 1) pause();
}

function play() {
  if (current === STEPS.length - 1) go(0);
  timer = setInterval(() => go(current + 1), 900);
  playButton.textContent = "❚❚ Pause";
  playButton.setAttribute("aria-pressed", "true");
}
function pause() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  playButton.textContent = "▶ Play";
  playButton.setAttribute("aria-pressed", "false");
}
function togglePlay() { if (timer === null) play(); else pause(); }

slider.max = String(STEPS.length - 1);
slider.addEventListener("input", () => { pause(); go(Number(slider.value)); });
document.getElementById("previous").addEventListener("click", () => { pause(); go(current - 1); });
document.getElementById("next").addEventListener("click", () => { pause(); go(current + 1); });
playButton.addEventListener("click", togglePlay);
document.addEventListener("keydown", (event) => {
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) return;
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: STEPS.length - 1 };
  if (event.key in moves) {
    pause();
    go(moves[event.key]);
  } else if (event.key === " " && tag !== "BUTTON") {
    togglePlay();
  } else {
    return;
  }
  event.preventDefault();
});

// ---- changing an input ------------------------------------------------------------------

const leafChoice = document.getElementById("leaf");
const valueField = document.getElementById("value");
const errorBox = document.getElementById("error");
const sourceNote = document.getElementById("source");
const LEAVES = [];
for (let k = 0; k < COUNT; k++) if (!NODES[k].parents.length) LEAVES.push(k);

function listLeaves() {
  const chosen = leafChoice.value;
  leafChoice.replaceChildren(...LEAVES.map((k) => {
    const option = document.createElement("option");
    option.value = String(k);
    option.textContent = `${NODES[k].label || "unnamed input"} = ${formatNumber(state.data[k])}`;
    return option;
  }));
  if (chosen) leafChoice.value = chosen;
  valueField.value = String(state.data[Number(leafChoice.value)]);
}

function use(numbers, source) {
  state = numbers;
  sourceNote.textContent = source;
  errorBox.textContent = "";
  listLeaves();
  drawEdgeLabels();
  go(current);
}

leafChoice.addEventListener("change", () => { valueField.value = String(state.data[Number(leafChoice.value)]); });
document.getElementById("edit").addEventListener("submit", (event) => {
  event.preventDefault();
  const typed = valueField.value.trim();
  const number = typed === "" ? NaN : Number(typed);
  if (!Number.isFinite(number)) {
    errorBox.textContent = `"${typed}" is not a number: type one such as -1.5 or 2e-3.`;
    return;
  }
  const leafData = state.data.slice();
  const k = Number(leafChoice.value);
  leafData[k] = number;
  try {
    use(recompute(leafData), "Every number now recomputed in this page, from the op table.");
  } catch (error) {
    errorBox.textContent = `${error.message}; the numbers are left as they were.`;
  }
});
document.getElementById("reset").addEventListener("click", () => {
  use({ data: ENGINE.data.slice(), grads: ENGINE.grads.slice(), edges: ENGINE.edges }, "Numbers from the engine.");
});

for (const id of ["controls", "edit", "keys"]) document.getElementById(id).hidden = false;
sourceNote.textContent = "Numbers from the engine.";
listLeaves();
go(0);

// What the tests read; `ready` marks the moment the page can be used.
window.backpropPage = {
  state: () => state,
  step: () => current,
  steps: STEPS.length,
  formatNumber,
  readyAt: performance.now(),
};
document.documentElement.dataset.ready = "yes";
