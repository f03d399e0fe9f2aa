# ruff: noqa: E501 - HTML lines of the template are kept whole
"""The batch report's HTML template (jinja2): self-contained, no asset from the internet."""

REPORT_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d2733; background: #f4f6f8; }
header { background: #20364b; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; font-size: 14px; }
main { padding: 18px 28px 40px; max-width: 1400px; }
.scroll { overflow-x: auto; }
.counts span { display: inline-block; margin-right: 18px; font-weight: 600; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 13px;
        box-shadow: 0 1px 3px rgba(0,0,0,.12); }
th, td { padding: 5px 7px; border-bottom: 1px solid #e3e7eb; text-align: left;
         vertical-align: top; }
th { background: #e9eef3; cursor: pointer; user-select: none; white-space: nowrap; }
th[data-sort]::after { content: " \\2195"; color: #8a96a3; }
th.asc::after { content: " \\2191"; color: #20364b; }
th.desc::after { content: " \\2193"; color: #20364b; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.good { color: #1c7c3a; } .fair { color: #a86800; } .poor { color: #b3261e; }
.none { color: #8a96a3; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px;
         font-weight: 600; }
.badge.ok { background: #dcf1e2; color: #1c7c3a; }
.badge.error { background: #fbe0de; color: #b3261e; }
.badge.not_judged { background: #fdf0d5; color: #8a5a00; }
.badge.warn { background: #fdf0d2; color: #8a5a00; }
p.warn { color: #8a5a00; }
td.cue { min-width: 180px; }
td.err { color: #b3261e; }
td.exercise { white-space: nowrap; }
section.video { background: #fff; margin-top: 22px; padding: 14px 20px 18px;
                box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section.video h2 { margin: 0 0 6px; font-size: 18px; }
.overall { font-size: 30px; font-weight: 700; margin-right: 14px; }
.meta { color: #5b6976; font-size: 13px; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; margin-top: 10px; }
.bars { min-width: 260px; }
.bar { display: flex; align-items: center; margin: 3px 0; font-size: 13px; }
.bar .label { width: 80px; }
.bar .track { width: 150px; height: 10px; background: #e3e7eb; border-radius: 5px;
              margin-right: 8px; overflow: hidden; }
.bar .fill { height: 100%; border-radius: 5px; }
.fill.good { background: #3aa35b; } .fill.fair { background: #e0a526; }
.fill.poor { background: #d9493f; } .fill.none { background: #c5ccd3; }
svg.timeline { background: #fafbfc; border: 1px solid #e3e7eb; }
svg .grid { stroke: #e3e7eb; stroke-width: 1; }
svg .axis { fill: #5b6976; font-size: 10px; }
svg .line { fill: none; stroke: #2c6fad; stroke-width: 1.6; }
svg .mark { fill: #d9493f; stroke: #fff; stroke-width: 1.2; }
.thumbs { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 12px; }
figure { margin: 0; width: 220px; font-size: 12px; }
figure img { width: 220px; border: 1px solid #d5dbe1; display: block; }
figcaption { margin-top: 3px; color: #34424f; }
ol.cues { margin: 4px 0 0; padding-left: 20px; font-size: 14px; }
h3 { font-size: 14px; margin: 12px 0 4px; color: #34424f; }
a { color: #2c6fad; }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p>Exercise: <b>{{ settings.exercise }}</b> &middot; stride {{ settings.stride }}
&middot; up to {{ settings.max_people }} {{ "person" if settings.max_people == 1 else "people" }} per frame
&middot; reference version {{ settings.reference_version }} &middot; {{ generated }}</p>
</header>
<main>
<p class="counts"><span>{{ entries|length }} inputs</span>
<span class="good">{{ scored|length }} scored</span>
{% if not_judged %}<span class="fair">{{ not_judged|length }} not judged</span>
{% endif %}<span class="{{ 'poor' if failed else 'none' }}">{{ failed|length }} failed</span></p>
<div class="scroll">
<table id="summary">
<thead><tr>
<th data-sort="text">Input</th><th data-sort="text">Status</th>
<th data-sort="text">Exercise</th><th data-sort="num" id="score-col">Score</th>
{% if settings.exercise == "auto" %}<th data-sort="num">Margin</th>{% endif %}
{% for region in regions %}<th data-sort="num">{{ region|capitalize }}</th>{% endfor %}
<th data-sort="text">Main cue / error</th>
</tr></thead>
<tbody>
{% for e in entries %}
<tr>
<td><a href="#{{ e.anchor }}">{{ e.name }}</a></td>
<td><span class="badge {{ e.result.status }}">{{ e.result.status|replace("_", " ") }}</span>{% if e.row.warning %} <span class="badge warn" title="{{ e.row.warning }}">warning</span>{% endif %}</td>
<td class="exercise">{{ e.row.exercise }}{% if e.row.close_call == "yes" %} <span class="badge warn" title="only {{ e.row.margin }} points ahead of the next best: the movement may be none of the references">close call</span>{% endif %}</td>
<td class="num {{ e.row.overall|score_class }}" data-value="{{ e.row.overall }}">{{ e.row.overall|whole }}</td>
{% if settings.exercise == "auto" %}<td class="num" data-value="{{ e.row.margin }}">{{ e.row.margin|whole }}</td>{% endif %}
{% for region in regions %}
<td class="num {{ e.row[region]|score_class }}" data-value="{{ e.row[region] }}">{{ e.row[region]|whole }}</td>
{% endfor %}
{% if e.result.status == "ok" %}<td class="cue">{{ e.row.main_cue }}</td>
{% else %}<td class="cue {{ "fair" if e.result.status == "not_judged" else "err" }}">{{ e.row.error|without_path(e.result.input.path) }}</td>{% endif %}
</tr>
{% endfor %}
</tbody>
</table>
</div>

{% for e in entries %}
<section class="video" id="{{ e.anchor }}">
<h2>{{ e.name }}</h2>
<p class="meta">{{ e.result.input.path }} &middot; <a href="{{ e.row.result }}">result JSON</a></p>
{% if e.result.status == "ok" %}
<p><span class="overall {{ e.summary.overall|score_class }}">{{ e.summary.overall }}</span>
against <b>{{ e.match.exercise }}</b>
{% if e.match.margin is not none %}(ahead of the next best by {{ e.match.margin }} points{% if e.row.close_call == "yes" %}: a close call, the movement may be none of the references{% endif %}){% endif %}
 &middot; {{ e.summary.kind }} &middot; {{ e.summary.plane }} landmarks
{% if e.summary.tempo and e.summary.kind != "held" %}&middot; tempo: {{ e.summary.tempo }}{% endif %}</p>
<p class="meta">{{ e.video.frames_scored }} frames scored, a person in
{{ e.video.frames_with_person }}, {{ e.video.duration_s }} s
{% if e.annotated_video %}&middot; <a href="{{ e.annotated_video }}">annotated video</a>{% endif %}</p>
{% for warning in e.result.get("warnings") or [] %}<p class="warn"><span class="badge warn">warning</span> {{ warning }}</p>{% endfor %}
<div class="cols">
<div>
<h3>Score over time</h3>
<svg class="timeline" width="{{ e.svg.width }}" height="{{ e.svg.height }}"
     viewBox="0 0 {{ e.svg.width }} {{ e.svg.height }}" role="img"
     aria-label="score timeline of {{ e.name }}">
{% for t in e.svg.yticks or [] %}
<line class="grid" x1="{{ e.svg.left }}" x2="{{ e.svg.right }}" y1="{{ t.y }}" y2="{{ t.y }}"/>
<text class="axis" x="{{ e.svg.left - 4 }}" y="{{ t.y + 3 }}" text-anchor="end">{{ t.label }}</text>
{% endfor %}
{% for t in e.svg.xticks %}
<text class="axis" x="{{ t.x }}" y="{{ e.svg.bottom + 14 }}" text-anchor="middle">{{ t.label }}</text>
{% endfor %}
{% for points in e.svg.lines %}<polyline class="line" points="{{ points }}"/>{% endfor %}
{% for m in e.svg.marks %}<circle class="mark" cx="{{ m.x }}" cy="{{ m.y }}" r="4"><title>{{ m.label }}</title></circle>{% endfor %}
</svg>
</div>
<div class="bars">
<h3>Body regions</h3>
{% for region in regions %}
{% set value = e.summary.regions.get(region) %}
<div class="bar"><span class="label">{{ region|capitalize }}</span>
<span class="track"><span class="fill {{ value|score_class }}" style="display:block;width:{{ value or 0 }}%"></span></span>
<span class="{{ value|score_class }}">{{ '-' if value is none else value }}</span></div>
{% endfor %}
</div>
</div>
{% if e.summary.cues %}
<h3>Main cues</h3>
<ol class="cues">{% for cue in e.summary.cues %}<li>{{ cue }}</li>{% endfor %}</ol>
{% endif %}
{% if e.worst %}
<h3>Worst moments</h3>
<div class="thumbs">
{% for m in e.worst %}
<figure>
{% if m.thumbnail %}<img src="{{ m.thumbnail }}" alt="{{ e.name }} at {{ m.timestamp_ms|seconds }}">{% endif %}
<figcaption><b>{{ m.timestamp_ms|seconds }}</b>{% if m.score is not none %} &middot; score {{ m.score|round|int }}{% endif %}
{% if m.region %} &middot; {{ m.region }}{% endif %}<br>{{ m.what }}</figcaption>
</figure>
{% endfor %}
</div>
{% endif %}
{% else %}
<p class="err"><span class="badge {{ e.result.status }}">{{ e.result.status|replace("_", " ") }}</span> {{ e.result.error.message }}</p>
{% endif %}
</section>
{% endfor %}
</main>
<script>
(function () {
  var table = document.getElementById("summary");
  var heads = table.tHead.rows[0].cells;
  function key(row, col, numeric) {
    var cell = row.cells[col];
    var raw = cell.getAttribute("data-value");
    if (!numeric) { return cell.textContent.trim().toLowerCase(); }
    var v = parseFloat(raw === null ? cell.textContent : raw);
    return isNaN(v) ? null : v;
  }
  function sortBy(col, desc) {
    var numeric = heads[col].getAttribute("data-sort") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      if (x === y) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return (x < y ? -1 : 1) * (desc ? -1 : 1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) { heads[i].classList.remove("asc", "desc"); }
    heads[col].classList.add(desc ? "desc" : "asc");
  }
  for (var i = 0; i < heads.length; i++) {
    (function (col) {
      heads[col].addEventListener("click", function () {
        sortBy(col, heads[col].classList.contains("asc"));
      });
    })(i);
  }
  sortBy(document.getElementById("score-col").cellIndex, true);
  window.addEventListener("load", function () {
    var images = document.images;
    for (var i = 0; i < images.length; i++) {
      var ok = images[i].complete && images[i].naturalWidth > 0;
      images[i].setAttribute("data-loaded", ok ? "yes" : "no");
      if (!ok) { images[i].alt = "missing picture: " + images[i].getAttribute("src"); }
    }
  });
})();
</script>
</body>
</html>
"""
