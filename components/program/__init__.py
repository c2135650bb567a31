"""The stack program this repository deploys: the stack config's settings (`settings`), the
stack they describe (`stack.MtlsIngressStack`, its objects per enforcer in `objects`), client
shards (`shard`), the clients' certificates (`clients`), CA rotation (`rotation`) and the
names of the stack outputs (`outputs`).

It builds on the components (`pki`, `kubernetes`) and is never imported by them: importing the
components does not load the settings or pydantic.
"""
