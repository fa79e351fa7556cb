"""The VAE vs PCA tab through Streamlit's AppTest: three maps, their table, a pick on each."""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.model_view import ModelSettings, build_view
from explorer.sections.maps import GRID, MAPS, pick_pictures
from tests.test_app import APP
from tests.test_manifold_classes import (  # noqa: F401
    CLASSES,
    offered,
    open_tab,
    random_cvae,
    store_model,
)
from vae_core import decode, encode, load_model, load_split
from vae_core.embeddings import (
    PCA,
    reconstruction_error,
    tsne_rows,
    vae_reconstructions,
)


def pick(at, name: str, row: int, x: float, y: float) -> None:
    """A click on map `name` as Streamlit reports it: a test image's point, or empty space
    (row -1, a point of the map's grid)."""
    point = {"curve_number": 0, "point_number": 0, "point_index": 0, "x": x, "y": y}
    at.session_state[f"maps_{name}"] = {
        "selection": {"points": [{**point, "customdata": row}], "box": [], "lasso": []}
    }


def values(array) -> list:
    """A figure's array as plotly writes it: a list, or {"dtype", "bdata"} in base64."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), np.dtype(array["dtype"])).tolist()
    return list(array)


def table_rows(at) -> dict[str, list[str]]:
    table = next(m.value for m in at.main.markdown if m.value.startswith("| map |"))
    rows = [line.strip("| ").split(" | ") for line in table.splitlines()[2:]]
    return {r[0]: r[1:] for r in rows}


def headings(at) -> list[str]:
    return [at.get_by_key(f"map_{name}").markdown[0].value for name in MAPS]


def captions(at, name: str) -> list[str]:
    """The captions of map `name`'s pictures and its words under them."""
    box = at.get_by_key(f"map_{name}")
    return [i.caption for e in box.get("image") for i in e.proto.imgs] + [
        c.value for c in box.caption
    ]


@pytest.mark.slow
def test_the_tab_maps_the_test_digits_three_ways_and_tabulates_what_each_keeps():
    # The first opening fits PCA and t-SNE and scores the VAE's map: about 30 s of CPU, longer
    # than run_app's timeout allows on a small machine's shared cores.
    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params["tab"] = "maps"
    at.run()
    assert not at.exception, at.exception
    test, train = load_split(None, "test"), load_split(None, "train")
    model = load_model()
    vae_heading, pca_heading, tsne_heading = headings(at)
    rows = table_rows(at)
    vae, pca, tsne_row = rows["VAE (2-D codes)"], rows["PCA (2 components)"], rows["t-SNE"]
    assert vae_heading == f"**VAE** · kNN {vae[0]}"
    assert pca_heading == f"**PCA** · kNN {pca[0]}"
    assert tsne_heading == f"**t-SNE** of 2,000 test digits · kNN {tsne_row[1]} (10-fold)"
    assert tsne_row[0] == "cannot place new digits"
    assert tsne_row[2:] == ["cannot decode", "cannot decode"]
    # The VAE's plane keeps the classes apart far better than PCA's, scored either way, and
    # gives the digits back more closely.
    for column in (0, 1):
        assert float(vae[column].rstrip(" %")) > float(pca[column].rstrip(" %")) + 20
    expected = reconstruction_error(test.images, vae_reconstructions(model, test.images))
    assert vae[2:] == [f"{expected.mse:.4f}", f"{expected.nats:.1f}"]
    assert float(pca[3]) > float(vae[3]) + 20
    fitted = PCA.fit(train.images)
    expected = reconstruction_error(test.images, fitted.decode(fitted.transform(test.images)))
    assert pca[2:] == [f"{expected.mse:.4f}", f"{expected.nats:.1f}"]

    # Each map: a grid of empty points under one trace a class, each point's test row with it,
    # the VAE's at the codes and PCA's at the projections.
    spec = {name: json.loads(at.get_by_key(f"maps_{name}").proto.spec) for name in MAPS}
    at_points = {"vae": encode(model, test.images)[0], "pca": fitted.transform(test.images)}
    for name in MAPS:
        grid, *classes = spec[name]["data"]
        assert len(classes) == 10 and values(grid["customdata"]) == [-1] * GRID**2
        found = sorted(r for trace in classes for r in values(trace["customdata"]))
        assert found == (tsne_rows(10_000).tolist() if name == "tsne" else list(range(10_000)))
        for c, trace in enumerate(classes):
            rows = values(trace["customdata"])
            assert set(test.labels[rows]) == {c}
            if name in at_points:
                xy = np.column_stack([values(trace["x"]), values(trace["y"])])
                np.testing.assert_allclose(xy, at_points[name][rows], atol=1e-5)

    # Nothing picked yet; then a click on each map.
    assert all("Click a digit or the map's empty space" in captions(at, n)[0] for n in MAPS)
    pick(at, "vae", -1, 0.5, -1.0)
    pick(at, "pca", 42, 1.0, 2.0)
    pick(at, "tsne", int(tsne_rows(10_000)[0]), 3.0, 4.0)
    at.run()
    assert not at.exception, at.exception
    assert captions(at, "vae") == [
        "the decoder at z = (0.50, -1.00)",
        "The VAE decodes nonlinearly: a point between classes still draws a shape.",
    ]
    assert captions(at, "pca") == [
        f"test #42, a {test.labels[42]}",
        "PCA decoded at (1.00, 2.00)",
    ]
    first = int(tsne_rows(10_000)[0])
    tsne_words = captions(at, "tsne")
    assert tsne_words[0] == f"test #{first}, a {test.labels[first]}"
    assert tsne_words[1].startswith("t-SNE cannot decode")
    pick(at, "pca", -1, 1.0, 2.0)
    at.run()
    assert captions(at, "pca")[1].startswith("PCA decodes linearly: the mean image plus 1.00")


def test_a_pick_shows_the_image_and_each_maps_decoding_there():
    test = load_split(None, "test")
    model = load_model()
    view = build_view(model, test.images[:50], test.labels[:50], "m")
    pca = PCA.fit(test.images[:50])
    [(empty, _)] = pick_pictures("vae", (-1, 0.5, -1.0), model, view, pca, None)
    np.testing.assert_allclose(empty, decode(model, [[0.5, -1.0]])[0])
    (image, caption), (decoded, _) = pick_pictures("vae", (7, 0, 0), model, view, pca, None)
    np.testing.assert_allclose(image, test.images[7] / 255.0)
    np.testing.assert_allclose(decoded, decode(model, view.mu[7:8])[0])
    assert caption == f"test #7, a {test.labels[7]}"
    [(linear, caption)] = pick_pictures("pca", (-1, 1.0, -2.0), model, view, pca, None)
    np.testing.assert_allclose(linear, pca.decode([[1.0, -2.0]])[0])
    assert caption == "PCA decoded at (1.00, -2.00)"
    (_, _), (projected, _) = pick_pictures("pca", (7, 0, 0), model, view, pca, None)
    np.testing.assert_allclose(projected, pca.decode(pca.transform(test.images[7:8]))[0])
    [(image, _)] = pick_pictures("tsne", (7, 0, 0), model, view, pca, None)
    np.testing.assert_allclose(image, test.images[7] / 255.0)
    assert pick_pictures("tsne", (-1, 0, 0), model, view, pca, None) == []


def test_a_conditional_models_empty_points_are_decoded_as_the_class_chosen():
    cvae = random_cvae(classes=3)
    test = load_split(None, "test")
    keep = np.flatnonzero(test.labels < 3)[:30]
    view = build_view(cvae, test.images[keep], test.labels[keep], "c")
    pca = PCA.fit(test.images[keep])
    [(empty, _)] = pick_pictures("vae", (-1, 0.5, -1.0), cvae, view, pca, 2)
    np.testing.assert_allclose(empty, decode(cvae, [[0.5, -1.0]], 2)[0])
    # A test image's point is its code given its own class: decoded with that class.
    own = int(test.labels[keep][4])
    (_, _), (decoded, _) = pick_pictures("vae", (4, 0, 0), cvae, view, pca, (own + 1) % 3)
    np.testing.assert_allclose(decoded, decode(cvae, view.mu[4:5], own)[0])


def test_other_data_and_a_conditional_model_in_their_own_words(offered):  # noqa: F811
    settings = ModelSettings(1.0, 64, 1, 3, data=offered.key, conditional=True)
    store_model(settings)
    at = open_tab(settings, "VAE vs PCA", **{"class": "2"})
    test = load_split(offered.directory, "test")
    count = len(test.labels)  # fewer than t-SNE's 2,000: all of them
    assert headings(at)[2].startswith(f"**t-SNE** of {count} test images · kNN ")
    words = " ".join(c.value for c in at.main.caption)
    assert "A conditional model" in words and "the class chosen on the page, two." in words
    spec = json.loads(at.get_by_key("maps_tsne").proto.spec)
    assert [t["name"] for t in spec["data"][1:]] == list(CLASSES)
    pick(at, "vae", -1, 0.25, 0.25)
    at.run()
    assert not at.exception, at.exception
    assert captions(at, "vae")[0] == "the decoder at z = (0.25, 0.25)"
