"""The swarm machinery tests/swarm and tests/suite share: a three-node Docker Swarm
(cluster.py, node.py, images.py), the stack deployed on it (stack.py), and the
`swarm_cluster` fixture (plugin.py)."""
