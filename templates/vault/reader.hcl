# secret reader: read and list everything in the KV v2 engine at secret/.
path "secret/data/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/*" {
  capabilities = ["read", "list"]
}
