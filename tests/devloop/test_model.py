"""The dev loop's view model: rows per service, folded from either parser."""

from __future__ import annotations

from devctl.devloop import updates as u
from devctl.devloop.model import CONSOLE, EVENTS, DevModel, PodCounts, Row

SERVICES = ("auth", "tour")
IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour"}


def model() -> DevModel:
    return DevModel(SERVICES, IMAGES)


def row(m: DevModel, name: str) -> Row:
    return next(r for r in m.rows() if r.name == name)


def test_rows_start_as_the_services_in_their_order() -> None:
    assert [(r.name, r.service, r.build, r.deploy) for r in model().rows()] == [
        ("auth", True, "-", "-"),
        ("tour", True, "-", "-"),
    ]


def test_build_and_deploy_states_land_on_their_rows() -> None:
    m = model()
    m.apply([u.BuildState("auth", u.BUILT), u.DeployState("auth", u.WAITING, "", 0, 2)], source=CONSOLE)
    r = row(m, "auth")
    assert (r.build, r.deploy, r.ready, r.desired) == ("built", "waiting", 0, 2)
    m.apply([u.DeployState("auth", u.READY)], source=CONSOLE)
    r = row(m, "auth")
    assert (r.deploy, r.ready, r.desired) == ("ready", 2, 2)


def test_a_deployment_that_is_not_a_service_gets_a_row_after_the_services() -> None:
    m = model()
    m.apply([u.DeployState("auth-mongo", u.READY)], source=CONSOLE)
    assert [(r.name, r.service) for r in m.rows()][-1] == ("auth-mongo", False)


def test_once_events_flow_console_state_is_ignored_but_logs_and_errors_are_kept() -> None:
    m = model()
    m.use_events()
    m.apply([u.BuildState("auth", u.BUILDING)], source=CONSOLE)
    assert row(m, "auth").build == "-"
    m.apply([u.BuildState("auth", u.BUILDING)], source=EVENTS)
    assert row(m, "auth").build == "building"
    m.apply([u.AppLog("auth-5d8f7c9b6d-x2x7q", "auth", "hello"), u.Failure("boom")], source=CONSOLE)
    assert row(m, "auth").last == "hello"
    assert m.failures == ["boom"]
    m.use_console()  # the stream broke off
    m.apply([u.BuildState("auth", u.BUILT)], source=CONSOLE)
    assert row(m, "auth").build == "built"


def test_app_lines_belong_to_the_deployment_named_by_the_pod() -> None:
    m = model()
    assert m.service_of("auth-5d8f7c9b6d-x2x7q", "auth") == "auth"
    assert m.service_of("tour", "tour") == "tour"  # `[container]` form
    assert m.service_of("auth-mongo-5d8f7c9b6d-x2x7q", "mongo") is None


def test_console_iterations_are_counted_and_ready_and_failed_are_the_loop_states() -> None:
    m = model()
    m.apply([u.LoopState(u.RUNNING)], source=CONSOLE)
    m.apply([u.LoopState(u.LOOP_READY)], source=CONSOLE)
    assert (m.iteration, m.loop) == (1, "ready")
    m.apply([u.LoopState(u.RUNNING)], source=CONSOLE)
    assert (m.iteration, m.loop) == (2, "running")
    m.apply([u.LoopState(u.LOOP_FAILED, 2, "1/2 deployment(s) failed")], source=CONSOLE)
    assert m.loop == "failed"


def test_the_reason_names_the_failed_deployment_and_skaffolds_own_words_once() -> None:
    m = model()
    why = "container auth is waiting to start: csup96/tour-auth:0f3c can't be pulled"
    m.apply(
        [
            u.DeployState("auth", u.DEPLOY_FAILED, why),
            u.Failure("1/2 deployment(s) failed"),
            u.Failure("1/2 deployment(s) failed"),
        ],
        source=CONSOLE,
    )
    assert m.reason() == f"deployment/auth: {why}; 1/2 deployment(s) failed"


def test_pod_counts_fill_ready_desired_and_restarts() -> None:
    m = model()
    m.set_pods({"tour": PodCounts(1, 2, 3, "starting (ContainerCreating)"), "auth-mongo": PodCounts(0, 1, 0, "x")})
    r = row(m, "tour")
    assert (r.ready, r.desired, r.restarts, r.reason) == (1, 2, 3, "starting (ContainerCreating)")
    # A Deployment Skaffold does not deploy (a database `up` applied) gets a row of its own, after the services.
    mongo = m.rows()[-1]
    assert (mongo.name, mongo.service, mongo.ready, mongo.reason) == ("auth-mongo", False, 0, "x")
    m.set_pods({"tour": PodCounts(2, 2, 3, None)})
    assert row(m, "tour").reason == ""
