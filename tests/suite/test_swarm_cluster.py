"""The swarm fixture (testing/swarm/cluster.py) on this machine: three nodes the manager
sees ready, a registry they share, a service spread over two nodes and reached on
127.0.0.1, and a node killed then brought back."""

import io
import secrets

import docker.errors
import pytest
import requests
from docker.types import EndpointSpec, ServiceMode

from testing.live import base_images, pulled_images, wait_until
from testing.swarm.node import APP_PORT

pytestmark = [pytest.mark.e2e, pytest.mark.swarm]

# The curl stand-in has perl and nothing that serves HTTP: a few lines of perl do,
# answering with the hostname, which the service sets to its node's.
ECHO_SERVER = f"""
use IO::Socket::INET;
$SIG{{TERM}} = sub {{ exit 0 }};  # PID 1 ignores SIGTERM unless told: a removal would wait 10 s
my $server = IO::Socket::INET->new(LocalPort => {APP_PORT}, Listen => 16, ReuseAddr => 1)
    or die "listen: $!";
open my $file, "<", "/etc/hostname" or die "hostname: $!";
chomp(my $name = <$file>);
while (my $client = $server->accept) {{
    while (my $line = <$client>) {{ last if $line =~ /^\\r?\\n$/ }}
    print $client "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n$name\\n";
    close $client;
}}
"""


def test_three_nodes_ready_the_images_on_the_manager_and_in_the_registry(swarm_cluster):
    assert swarm_cluster.states() == {"manager": "ready", "worker1": "ready", "worker2": "ready"}
    assert [n.role for n in swarm_cluster.nodes] == ["manager", "worker", "worker"]
    assert swarm_cluster.manager_client.swarm.attrs["ID"]
    for node in swarm_cluster.nodes:
        assert node.client.info()["Swarm"]["LocalNodeState"] == "active"
        assert node.app_url.startswith("http://127.0.0.1:")
    manager_tags = {
        tag for image in swarm_cluster.manager_client.images.list() for tag in image.tags
    }
    assert set(base_images()) <= manager_tags
    catalog = requests.get(f"{swarm_cluster.registry_url}/v2/_catalog", timeout=5).json()
    assert {name.split(":")[0] for name in pulled_images()} <= set(catalog["repositories"])


def test_an_image_pushed_by_the_manager_is_pulled_by_a_worker(swarm_cluster):
    # No layers: a label on an empty image is enough to cross the registry.
    name = f"{swarm_cluster.registry}/selftest-{secrets.token_hex(3)}:1"
    dockerfile = io.BytesIO(b"FROM scratch\nLABEL selftest=swarm-cluster\n")
    swarm_cluster.manager_client.images.build(fileobj=dockerfile, tag=name, rm=True)
    for line in swarm_cluster.manager_client.images.push(name, stream=True, decode=True):
        assert "error" not in line, line
    pulled = swarm_cluster.node("worker1").client.images.pull(name)
    assert pulled.labels["selftest"] == "swarm-cluster"
    catalog = requests.get(f"{swarm_cluster.registry_url}/v2/_catalog", timeout=5).json()
    assert name.split("/", 1)[1].split(":")[0] in catalog["repositories"]


def test_a_service_spreads_over_two_nodes_and_answers_on_loopback(swarm_cluster):
    name = f"echo-{secrets.token_hex(3)}"
    service = swarm_cluster.manager_client.services.create(
        swarm_cluster.mirrored("curlimages/curl:8.4.0"),
        command=["perl", "-e", ECHO_SERVER],
        name=name,
        hostname="{{.Node.Hostname}}",
        mode=ServiceMode("replicated", replicas=2),
        maxreplicas=1,
        # No IPVS here: DNS round robin, and each node publishes its own task's port.
        endpoint_spec=EndpointSpec(mode="dnsrr", ports={APP_PORT: (APP_PORT, "tcp", "host")}),
    )
    try:

        def running():
            tasks = swarm_cluster.tasks(name, desired="running")
            hosts = [host for host, state in tasks if state == "running"]
            return hosts if len(hosts) == 2 else None

        hosts = wait_until(running, 120, f"2 running tasks of {name}", interval=0.5)
        assert len(set(hosts)) == 2, f"max 1 per node, but tasks ran on {hosts}"

        def answer(url):
            try:
                return requests.get(url, timeout=3).text.strip()
            except requests.RequestException:
                return None

        for host in hosts:
            url = swarm_cluster.node(host).app_url
            assert wait_until(lambda url=url: answer(url), 30, f"{url} to answer") == host
        (idle,) = {n.hostname for n in swarm_cluster.nodes} - set(hosts)
        assert answer(swarm_cluster.node(idle).app_url) is None
    finally:
        service.remove()
    wait_until(
        lambda: (
            not any(
                c
                for n in swarm_cluster.nodes
                for c in n.client.containers.list(filters={"name": name})
            )
        ),
        60,
        f"the tasks of {name} to stop",
    )


def test_a_killed_worker_is_seen_down_then_comes_back(swarm_cluster):
    worker = swarm_cluster.node("worker2")
    swarm_cluster.kill(worker)
    assert worker.container.wait(timeout=30)["StatusCode"] == 137  # SIGKILL
    swarm_cluster.wait_state(worker, "down")
    with pytest.raises((docker.errors.DockerException, requests.RequestException)):
        worker.client.ping()
    # The cluster is the session's: later tests find three ready nodes again.
    swarm_cluster.restart(worker)
    assert swarm_cluster.states()["worker2"] == "ready"
    # What the swarm knows it by has not moved.
    worker.container.reload()
    networks = worker.container.attrs["NetworkSettings"]["Networks"]
    assert networks[swarm_cluster.network_name]["IPAddress"] == worker.address
