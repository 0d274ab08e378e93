"""The Parameters and Model tabs redraw one stale view at a time, paced so that view redraws of all
sessions take a bounded share of the server's event loop."""
import time

import pytest

import core
from app.state.setup import Setup
from app.ui.view_tabs import RedrawPacer, ViewTab
from app.ui.views import ViewState


def test_pacer_keeps_redraws_to_its_share_of_the_loop():
    pacer = RedrawPacer(budget=0.25)
    assert pacer.due(0.0)
    pacer.record(10.0, 10.4)  # a redraw of 0.4 s: the next waits 0.4 * 0.75 / 0.25 = 1.2 s
    assert not pacer.due(11.5) and pacer.due(11.7)
    with pytest.raises(core.HybridlabError, match="redraw budget"):
        RedrawPacer(budget=0)


class FakeSession:
    """The fields ViewState.refresh reads from a TrainingSession."""

    def __init__(self, **fields):
        self.snapshot = self.data = self.run = self.derived = self.spec = self.ensemble = None
        self.history = []
        self.__dict__.update(fields)


@pytest.mark.slow  # trains or draws for seconds: out of the quick loop
def test_view_tab_redraws_one_stale_view_per_call_and_only_when_the_pacer_allows():
    setup = Setup(model_name="soc", n_sites=400, epochs=2)
    run = core.execute(setup.plan())
    tab = ViewTab("Parameters", setup, ViewState())
    tab.layout.get_root()  # builds the panes for the chosen model
    assert len(tab.panes) >= 3 and not any(p.stale for p in tab.panes)
    tab.state.refresh(FakeSession(history=run.history.to_dict("records"), snapshot=run.final_snapshot(),
                                  data=run.data, spec=core.get_model("soc")), setup.rows)
    stale = sum(p.stale for p in tab.panes)
    assert stale >= 2  # what they draw from changed
    pacer = RedrawPacer()
    pacer.next_at = time.perf_counter() + 60  # another session just used the loop's share
    assert not tab.refresh(paced=True, pacer=pacer)
    assert tab.refresh(paced=False, pacer=pacer)  # a tab just opened is drawn at once
    assert sum(p.stale for p in tab.panes) == stale - 1
    # a role change makes the views that draw the rows stale again
    for pane in tab.panes:
        pane.drawn = pane._inputs()
    setup.rows[0].role = "fixed" if setup.rows[0].role != "fixed" else "global"
    assert any(p.stale for p in tab.panes)
