"""The API server misbehaves; the published table still converges to
what it holds, and a controller that loses it keeps the last table.
Each test breaks the stand-in in one way (restarts with and without its
state, compacted history, cut, garbled and truncated watches, 500/429/503,
a rotated token) and then changes objects."""

import time

import pytest

from kubetest import App, World, wait_for


def start(api, controller, count=12, chunking="batch"):
    world = World.generated(count)
    api.load(world.objects())
    api.set(watch_chunking=chunking)
    ctl = controller(api)
    ctl.wait_routes(world.expected(), what="first table")
    return world, ctl


def inflict(ctl, fault, symptom, tries=20):
    """Injects a watch fault until the controller logs its symptom once
    more: a fault only hits the watches open at that moment, and right
    after an earlier fault they may all be backing off."""
    seen = ctl.log_count(symptom)
    for _ in range(tries):
        fault()
        try:
            wait_for(lambda: ctl.log_count(symptom) > seen, symptom, 2)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{symptom} never logged:\n{ctl.log()[-3000:]}")


def change(api, world, tag):
    """One create, one endpoint update and one delete."""
    for obj in world.add(App("shop", f"new-{tag}", ["10.66.0.1"])).objects():
        api.apply(obj)
    app = next(a for a in world.apps.values() if not a.name.startswith("new"))
    app.addresses = [f"10.66.1.{len(tag)}", "10.66.2.2"]
    api.apply(app.slice())
    gone = next(a for a in world.apps.values()
                if a is not app and not a.name.startswith("new"))
    world.remove(gone.ns, gone.name)
    api.delete("ingresses", gone.ns, gone.name)


def test_restart_keeping_state(api, controller):
    world, ctl = start(api, controller)
    generation = ctl.control()["generation"]
    api.restart(keep_state=True, down_seconds=2)
    # Nothing changed while it was down: nothing was published.
    assert ctl.control()["generation"] == generation
    change(api, world, "a")
    ctl.wait_routes(world.expected(), what="table after restart")


def test_restart_losing_state(api, controller):
    old, ctl = start(api, controller)
    api.restart(keep_state=False)
    world = World.generated(7, prefix="reborn")
    api.load(world.objects())
    ctl.wait_routes(world.expected(), what="table after state loss")
    assert 'msg="watch expired, listing again"' in ctl.log()


@pytest.mark.parametrize("as_http", [False, True],
                         ids=["error-event", "http-410"])
def test_compacted_history_relists(api, controller, as_http):
    world, ctl = start(api, controller)
    api.set(expired_as_http=as_http)
    # Keep the controller from watching while history moves on.
    api.fail(pattern="watch=1", count=-1, action="reset")
    api.end_watches()
    wait_for(lambda: api.state()["watches"] == 0, "watches to close")
    change(api, world, "b")
    api.compact()
    api.clear_faults()
    ctl.wait_routes(world.expected(), what="table after compaction")
    assert 'msg="watch expired, listing again"' in ctl.log()
    assert "deleted=1 " in ctl.log()


def test_watches_cut_mid_event(api, controller):
    world, ctl = start(api, controller, chunking="split")
    for tag in ("c1", "c22", "c333"):
        change(api, world, tag)
        inflict(ctl, api.cut_watches, "transfer closed with outstanding")
        ctl.wait_routes(world.expected(), what=f"table after cut {tag}")


def test_garbage_and_truncated_events(api, controller):
    world, ctl = start(api, controller)
    inflict(ctl, api.inject_garbage, 'msg="watch stream broken"')
    change(api, world, "g")
    ctl.wait_routes(world.expected(), what="table after garbage")

    inflict(ctl, api.truncate_watches, 'msg="watch ended inside an event"')
    change(api, world, "tt")
    ctl.wait_routes(world.expected(), what="table after truncation")


def test_list_failures_are_retried(api, controller):
    world = World.generated(8)
    api.load(world.objects())
    api.fail(pattern=r"services\?limit", count=3, status=500)
    api.fail(pattern=r"endpointslices\?limit", count=1, action="reset")
    ctl = controller(api)
    ctl.wait_routes(world.expected(), what="table after failed lists")
    assert ctl.log().count('action=list') >= 4


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(api, controller, status):
    world, ctl = start(api, controller)
    api.clear_requests()
    api.fail(pattern=r"ingresses\?watch=1", count=1, status=status,
             retry_after=2)
    api.end_watches(pattern="ingresses")
    change(api, world, "r")
    ctl.wait_routes(world.expected(), what="table after Retry-After")

    def watches():
        return [r for r in api.requests()
                if r["watch"] and "/ingresses?" in r["target"]]

    refused = wait_for(lambda: [r for r in watches()
                                if r["status"] == status], "the refusal")
    again = wait_for(lambda: [r for r in watches()
                              if r["time"] > refused[0]["time"]],
                     "the watch after the refusal")
    assert again[0]["time"] - refused[0]["time"] >= 1.9, watches()


def test_unauthorized_until_token_file_rewritten(api, controller):
    world, ctl = start(api, controller)
    api.rotate_token("rotated-token")
    api.end_watches()

    def refused_kinds():
        return {r["target"].split("?")[0] for r in api.requests()
                if r["status"] == 401}

    # Every reflector is refused (and backs off) before the fix arrives.
    wait_for(lambda: len(refused_kinds()) == 5 or None, "401s for all kinds")
    change(api, world, "u")
    ctl.write_token("rotated-token")
    ctl.wait_routes(world.expected(), deadline=60,
                    what="table after the token file changed")
    assert 'msg="API token re-read"' in ctl.log()
    assert "rotated-token" not in ctl.log()


def test_server_gone_keeps_the_table(api, controller):
    world, ctl = start(api, controller)
    generation = ctl.control()["generation"]
    expected = world.expected()
    api.stop()
    time.sleep(3)
    assert ctl.alive()
    assert ctl.control()["generation"] == generation
    assert ctl.routes() == expected
    api.start()
    change(api, world, "s")
    ctl.wait_routes(world.expected(), deadline=60,
                    what="table after the server came back")
