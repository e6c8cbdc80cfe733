"""tf.summary.image and tf.summary.text (frontend/summary_ops.py, runtime/summary_host.py,
runtime/png.py): pixels computed in the native step, PNGs and protos built on the host,
read back by TensorBoard's event reader and compared with tensorflow.compat.v1's."""
from __future__ import annotations

import glob

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.runtime import png

RNG = np.random.default_rng(7)
FLOATS = RNG.standard_normal((4, 3, 5, 1)).astype(np.float32)
FLOATS[1] = np.abs(FLOATS[1])  # an image of non-negative values: the other rescaling rule
FLOATS[2, 0, 0, 0] = np.nan  # a non-finite pixel: bad_color (red; its first channel in greyscale)
RGB = RNG.integers(0, 256, (2, 4, 3, 3), dtype=np.uint8)
RGBA = RNG.random((1, 2, 2, 4))  # float64


def _graph(lib):
    """The same user code under lowerflow and tensorflow.compat.v1."""
    x = lib.placeholder(lib.float32, [None, 3, 5, 1], name="x")
    pics = lib.summary.image("pics", x * 2.0)  # max_outputs=3 of a batch of 4
    rgb = lib.summary.image("rgb", lib.constant(RGB), max_outputs=1, family="colour")
    rgba = lib.summary.image("rgba", lib.constant(RGBA), max_outputs=5)
    note = lib.summary.text("note", lib.constant(["hello", "wörld"]))
    one = lib.summary.text("one", lib.constant("a single line"))
    return x, [pics, rgb, rgba, note, one]


@pytest.fixture(scope="module")
def ours():
    with tf.Graph().as_default():
        x, summaries = _graph(tf)
        with tf.Session() as sess:
            values = sess.run(summaries + [tf.summary.merge_all()], {x: FLOATS})
    return [tf.Summary.FromString(v) for v in values]


def test_image_tags_and_sizes(ours):
    pics, rgb, rgba, note, one, merged = ours
    assert [v.tag for v in pics.value] == ["pics/image/0", "pics/image/1", "pics/image/2"]
    assert [(v.image.height, v.image.width, v.image.colorspace) for v in pics.value] == [(3, 5, 1)] * 3
    assert [v.tag for v in rgb.value] == ["colour/colour/rgb/image"]
    assert (rgb.value[0].image.height, rgb.value[0].image.width, rgb.value[0].image.colorspace) == (4, 3, 3)
    assert [v.tag for v in rgba.value] == ["rgba/image/0"] and rgba.value[0].image.colorspace == 4
    assert len(merged.value) == 3 + 1 + 1 + 1 + 1


def test_image_pixels(ours):
    pics, rgb, rgba, *_ = ours
    np.testing.assert_array_equal(png.decode(rgb.value[0].image.encoded_image_string), RGB[0])
    scaled = FLOATS * 2.0
    positive = png.decode(pics.value[1].image.encoded_image_string)[..., 0]
    np.testing.assert_array_equal(positive, (scaled[1, ..., 0] * np.float32(255.0 / scaled[1].max())).astype(np.uint8))
    mixed = png.decode(pics.value[0].image.encoded_image_string)[..., 0]
    biggest = np.abs(scaled[0]).max()
    np.testing.assert_array_equal(mixed, (scaled[0, ..., 0] * np.float32(127.0 / biggest) + 128).astype(np.uint8))
    assert png.decode(pics.value[2].image.encoded_image_string)[0, 0, 0] == 255  # bad_color's red
    # float64: TF's single-precision scale puts the largest value just under 255, so 254 (as TF)
    assert png.decode(rgba.value[0].image.encoded_image_string).max() == 254


def test_text_values(ours):
    *_, note, one, merged = ours
    (v,) = note.value
    assert v.tag == "note" and v.metadata.plugin_data.plugin_name == "text"
    assert list(v.tensor.string_val) == [b"hello", "wörld".encode()] and v.tensor.tensor_shape.dim[0].size == 2
    assert one.value[0].tensor.string_val == [b"a single line"] and not one.value[0].tensor.tensor_shape.dim


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="DataType int32 not in list of allowed values: uint8, float32"):
            tf.summary.image("bad", tf.zeros([1, 2, 2, 1], tf.int32))
        with pytest.raises(ValueError, match="Expected tensor Const:0 to have dtype string, got <dtype: 'float32'>"):
            tf.summary.text("bad", tf.constant(1.0))
        p = tf.placeholder(tf.float32, [None, None, None, None], name="p")
        s = tf.summary.image("img", p)
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                                 match=r"Tensor must be 4-D with last dim 1, 3, or 4, not \[1,2,2,2\]"):
            sess.run(s, {p: np.zeros((1, 2, 2, 2))})
        with tf.Session() as sess:
            assert tf.Summary.FromString(sess.run(s, {p: np.zeros((0, 2, 2, 1))})).value == []
            assert sess.run(tf.constant("text")) == b"text"
            np.testing.assert_array_equal(sess.run(tf.constant(["a", "b"])), np.array([b"a", b"b"], object))
        with pytest.raises(TypeError, match="lowerflow has no string computations: Identity cannot take the string"):
            tf.identity(tf.constant("x"))


def test_tensorboard_reads_images_and_text(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator

    with tf.Graph().as_default() as g:
        x, summaries = _graph(tf)
        merged = tf.summary.merge_all()
        writer = tf.summary.FileWriter(str(tmp_path), g)
        with tf.Session() as sess:
            for step in (0, 5):
                writer.add_summary(sess.run(merged, {x: FLOATS * (step + 1)}), step)
        writer.close()
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    acc = event_accumulator.EventAccumulator(path, size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    assert set(acc.Tags()["images"]) == {"pics/image/0", "pics/image/1", "pics/image/2",
                                         "colour/colour/rgb/image", "rgba/image/0"}
    images = acc.Images("colour/colour/rgb/image")
    assert [(e.step, e.width, e.height) for e in images] == [(0, 3, 4), (5, 3, 4)]
    np.testing.assert_array_equal(png.decode(images[1].encoded_image_string), RGB[0])
    notes = acc.Tensors("note")
    assert [e.step for e in notes] == [0, 5] and list(notes[0].tensor_proto.string_val)[0] == b"hello"
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"
    assert {n.name for n in acc.Graph().node} >= {"pics", "note", "colour/rgb"}


@pytest.fixture(scope="module")
def tf1():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    return tf1


def test_matches_tensorflow(ours, tf1):
    with tf1.Graph().as_default():
        x, summaries = _graph(tf1)
        with tf1.Session() as sess:
            want = [tf.Summary.FromString(v) for v in sess.run(summaries, {x: FLOATS})]
            decode = tf1.placeholder(tf1.string)
            pixels = tf1.image.decode_png(decode)
            for mine, theirs in zip(ours[:3], want[:3]):
                assert [v.tag for v in mine.value] == [v.tag for v in theirs.value]
                for a, b in zip(mine.value, theirs.value):
                    assert (a.image.height, a.image.width, a.image.colorspace) == \
                        (b.image.height, b.image.width, b.image.colorspace)
                    np.testing.assert_array_equal(  # TensorFlow's PNG decoder reads ours: the same pixels
                        sess.run(pixels, {decode: a.image.encoded_image_string}),
                        sess.run(pixels, {decode: b.image.encoded_image_string}))
    assert ours[3:5] == want[3:5]  # text summaries: the same protos


def test_graph_defs_cross_over(ours, tf1):
    """Our GraphDef with image and text summaries runs in TensorFlow, and TensorFlow's here."""
    with tf.Graph().as_default() as g:
        _, summaries = _graph(tf)
        names = [t.name for t in summaries]
        graph_def = g.as_graph_def()
    with tf1.Graph().as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with tf1.Session() as sess:
            in_tf = [tf.Summary.FromString(v) for v in sess.run(names, {"x:0": FLOATS})]
    with tf1.Graph().as_default() as their_graph:
        _, theirs = _graph(tf1)  # the same code, built by TensorFlow
        their_def, their_names = their_graph.as_graph_def(), [t.name for t in theirs]
    assert [[v.tag for v in s.value] for s in in_tf] == [[v.tag for v in s.value] for s in ours[:5]]
    assert in_tf[3:] == ours[3:5]
    with tf.Graph().as_default():
        tf.import_graph_def(their_def, name="")
        with tf.Session() as sess:
            here = [tf.Summary.FromString(v) for v in sess.run(their_names, {"x:0": FLOATS})]
    assert [len(s.value) for s in here] == [3, 1, 1, 1, 1]
    assert [list(s.value[0].tensor.string_val) for s in here[3:]] == [[b"hello", "wörld".encode()], [b"a single line"]]
    np.testing.assert_array_equal(png.decode(here[1].value[0].image.encoded_image_string), RGB[0])
