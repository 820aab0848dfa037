"""The embedded sandbox AWS: moto in a child process, made to behave more like AWS.

- ``process``: ``SandboxProcess`` starts/stops the server; ``journal_instance_id``, ``wipe``.
- ``server`` (the child process), ``app`` (its middleware: lock, deterministic ids, journal),
  ``journal``, ``wire``, ``organizations`` and ``creations`` (asynchronous CreateAccount,
  injected failures), ``moto_patches`` (CloudFormation change sets as AWS executes them),
  ``moto_speedups`` (moto's CPU per request: templates through libyaml, cached lookups),
  ``cloudformation``, ``cloudformation_xml`` and ``stacks`` (stack operations that take time,
  and the log of stack operations).
- ``hooks``: ``SandboxHooks``, client-side latency, quota throttling and account routing.

Who calls it: the server composition root and tests. Import the submodules directly; this
package module stays empty so the server process starts without importing moto or botocore.
"""
