"""The driven side: implementations of the ports in `workflows.ports`."""
