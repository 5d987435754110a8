"""The playground page through AppTest: defaults, every input, bad settings, the slide controls."""

from __future__ import annotations

import torch
from streamlit.testing.v1 import AppTest

from ui.state import DRAWN_KEY, DrawnInput

APP = "../app.py"
PAGE = "pages/playground.py"


def _playground(state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.switch_page(PAGE).run()


def _shapes(at: AppTest) -> list[str]:
    return [c.value for c in at.code if c.value.startswith("torch.Size")]


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_defaults_are_the_notebooks():
    at = _playground()
    _ok(at)
    assert _shapes(at) == [
        "torch.Size([1, 3, 64, 64])",
        "torch.Size([1, 10, 62, 62])",
        "torch.Size([1, 10, 31, 31])",
    ]
    code = at.code[0].value
    assert "nn.Conv2d(in_channels=3, out_channels=10, kernel_size=3, stride=1, padding=0)" in code
    assert "nn.MaxPool2d(kernel_size=2)" in code
    latex = [m.value for m in at.latex]
    assert len(latex) == 4 and latex[0].strip("$\n").endswith("= 62")
    assert latex[2].strip("$\n").endswith("= 31")
    assert any("**280** learnable parameters" in m.value for m in at.markdown)
    demo = next(c.value for c in at.code if "random_tensor" in c.value)
    assert "0.3367" in demo and "torch.Size([1, 1, 1, 1])" in demo


def test_padding_1_keeps_64():
    at = _playground()
    at.text_input(key="pg_padding").input("1").run()
    _ok(at)
    assert "torch.Size([1, 10, 64, 64])" in _shapes(at)
    assert "torch.Size([1, 10, 32, 32])" in _shapes(at)


def test_relu_whole_batch_and_same_padding():
    at = _playground()
    at.checkbox(key="pg_relu").check()
    at.checkbox(key="pg_whole_batch").check()
    at.text_input(key="pg_padding").input("same")
    at.text_input(key="pg_kernel").input("4, 3").run()
    _ok(at)
    assert _shapes(at) == [
        "torch.Size([32, 3, 64, 64])",
        "torch.Size([32, 10, 64, 64])",
        "torch.Size([32, 10, 64, 64])",
        "torch.Size([32, 10, 32, 32])",
    ]
    assert "torch.relu" in at.code[0].value and "padding='same'" in at.code[0].value


def test_bad_settings_give_one_sentence_and_no_traceback():
    at = _playground()
    for key, text, words in [
        ("pg_kernel", "70", "covers 70 rows"),
        ("pg_stride", "two", "stride must be a whole number"),
        ("pg_pool_padding", "2", "at most half the kernel size"),
    ]:
        widget = at.text_input(key=key)
        before = widget.value
        widget.input(text).run()
        assert not at.exception
        assert len(at.error) == 1 and words in at.error[0].value
        at.text_input(key=key).input(before).run()
        _ok(at)
    at.text_input(key="pg_stride").input("2")
    at.text_input(key="pg_padding").input("same").run()
    assert "padding='same' needs stride 1" in at.error[0].value
    at.text_input(key="pg_padding").input("0")
    at.number_input(key="pg_in_channels").set_value(1).run()
    assert "in_channels is 1" in at.error[0].value
    at.number_input(key="pg_in_channels").set_value(3)
    at.number_input(key="pg_height").set_value(0).run()
    assert "input height must be at least 1; got 0" in at.error[0].value
    at.number_input(key="pg_height").set_value(64)
    at.number_input(key="pg_batch").set_value(100_000).run()
    assert "cap of 16,777,216 values" in at.error[0].value
    assert any("0.3367" in c.value for c in at.code)  # the demo stays


def test_random_channels_follow_into_in_channels():
    at = _playground()
    at.number_input(key="pg_channels").set_value(1).run()
    _ok(at)
    assert at.number_input(key="pg_in_channels").value == 1
    assert "torch.Size([1, 1, 64, 64])" in _shapes(at)


def test_fashion_mnist_image(real_data):
    at = _playground()
    at.radio(key="pg_source").set_value("Fashion-MNIST test image").run()
    _ok(at)
    assert at.number_input(key="pg_in_channels").value == 1  # follows the 1-channel image
    assert _shapes(at)[:2] == ["torch.Size([1, 1, 28, 28])", "torch.Size([1, 10, 26, 26])"]
    assert "Ankle boot" in at.code[0].value  # test image 0, as torchvision reads it


def test_drawing_input_missing_then_present():
    at = _playground()
    at.radio(key="pg_source").set_value("Your drawing").run()
    assert not at.exception and "Draw page" in at.info[0].value
    drawn = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at = _playground({DRAWN_KEY: drawn, "pg_source": "Your drawing", "pg_in_channels": 1})
    _ok(at)
    assert _shapes(at)[0] == "torch.Size([1, 1, 28, 28])"


def test_step_play_and_pause_the_kernel_slide():
    at = _playground()
    frame = "pg_conv_slide_frame"
    assert at.session_state[frame] == 0
    at.button(key="pg_conv_slide_next").click().run()
    at.button(key="pg_conv_slide_next").click().run()
    assert at.session_state[frame] == 2
    slide_text = next(c.value for c in at.code if c.value.startswith("out[0, 0, 0, 2]"))
    assert "all 3 input channels" in slide_text
    at.button(key="pg_conv_slide_back").click().run()
    assert at.session_state[frame] == 1
    at.button(key="pg_conv_slide_play").click().run()
    _ok(at)
    assert at.button(key="pg_conv_slide_play_while_playing").label == "Pause"
    at.run()  # what a tick of the fragment's timer does (AppTest never fires timers)
    assert at.session_state[frame] == 2
    at.button(key="pg_conv_slide_play_while_playing").click().run()
    assert at.button(key="pg_conv_slide_play").label == "Play"
    at.run()
    assert at.session_state[frame] == 2  # paused: nothing moves
    at.button(key="pg_conv_slide_first").click().run()
    assert at.session_state[frame] == 0


def test_a_slide_control_clicked_once_but_run_twice_does_what_the_button_said(monkeypatch):
    """A busy server can fold reruns together and run a button's callback twice; Pause must
    still pause (a toggle would have started the slide again), Play still play, and Step
    move one cell."""
    from ui import slide_player as sp

    state = {"s_frame": 5, "s_playing": True, "s_speed": 2}
    monkeypatch.setattr(sp.st, "session_state", state)
    for _ in range(2):
        sp._set_playing("s", 100, False)
    assert state["s_playing"] is False and state["s_frame"] == 5
    for _ in range(2):
        sp._set_playing("s", 100, True)
    assert state["s_playing"] is True and state["s_frame"] == 5
    for _ in range(2):  # Step, drawn at frame 5, aims at 6 however often its callback runs
        sp._go_to("s", 6)
    assert state["s_playing"] is False and state["s_frame"] == 6


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label and b.key.startswith("pg_conv_slide"))


def _deliver_again(at: AppTest, button) -> AppTest:
    """Rerun with `button`'s click delivered once more. A click that lands on a tick of the
    playing slide's timer reaches the server twice: in the tick's rerun, then in its own."""
    states = at._tree.get_widget_states()
    again = states.widgets.add()
    again.id, again.trigger_value = button.id, True
    return at._run(states)


def test_a_click_on_a_tick_delivered_twice_still_does_what_the_button_said():
    """Seen in Chromium: Pause clicked while the slide played arrived twice, and the second
    copy reached the Play button drawn by then, so the slide started again."""
    at = _playground()
    frame = "pg_conv_slide_frame"
    at.button(key="pg_conv_slide_play").click().run()
    at.run()  # a tick
    pause = _button(at, "Pause")
    pause.click().run()
    paused_at = at.session_state[frame]
    assert _button(at, "Play") and not at.session_state["pg_conv_slide_playing"]
    _deliver_again(at, pause)
    _ok(at)
    assert not at.session_state["pg_conv_slide_playing"], "the second copy started it again"
    assert at.session_state[frame] == paused_at and _button(at, "Play")
    # Step, clicked while playing, moves one cell however often it arrives
    _button(at, "Play").click().run()
    at.run()
    step = _button(at, "Step")
    aimed = at.session_state[frame] + 1
    step.click().run()
    assert at.session_state[frame] == aimed and not at.session_state["pg_conv_slide_playing"]
    _deliver_again(at, step)
    _ok(at)
    assert at.session_state[frame] == aimed, "the second copy stepped again"


def test_settings_come_in_reading_order():
    """Rows of two: on a phone, where columns stack, the fields still read left to right."""
    at = _playground()
    _ok(at)
    numbers = [w.key.removeprefix("pg_") for w in at.number_input][:8]  # then the tabs' own
    texts = [w.key.removeprefix("pg_") for w in at.text_input]
    assert numbers == ["batch", "channels", "height", "width", "seed", "in_channels",
                       "out_channels", "conv_seed"]  # fmt: skip
    assert texts == ["kernel", "stride", "padding", "dilation", "pool_kernel", "pool_stride",
                     "pool_padding"]  # fmt: skip
