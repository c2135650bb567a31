"""What the tests and the benchmarks share without either importing the other: the Pulumi
runtime under mocks with pulumi-tls emulated (`mock_runtime`, `tls_emulator`), certificate
authorities made directly with cryptography (`pki_material`) and the stack configs they run the
program with (`stack_configs`). Driving the real engine is `localkube`'s."""
