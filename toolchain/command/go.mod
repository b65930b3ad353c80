module pg-replication/toolchain/command

go 1.26

require github.com/pulumi/pulumi-command/provider v0.0.0-20260303235922-7f3eb6f3b77c

tool github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command
