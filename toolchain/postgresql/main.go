// Command pulumi-resource-postgresql serves the upstream Terraform PostgreSQL provider
// (cyrilgdn v1.27.0, the one @pulumi/postgresql 3.18.x bridges) through the Pulumi
// Terraform bridge. It exists because the Go module proxy reachable here does not serve
// pulumi-postgresql's own provider module; the token mapping below is the standard one
// that @pulumi/postgresql's SDK uses (postgresql_role -> postgresql:index/role:Role).
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-postgresql/postgresql"
)

// version is set with -ldflags "-X main.version=..."; the engine compares it with the SDK's.
var version = "0.0.0-dev"

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(postgresql.Provider()),
		Name:    "postgresql",
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"sslmode":         {Default: &tfbridge.DefaultInfo{EnvVars: []string{"PGSSLMODE"}}},
			"connect_timeout": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"PGCONNECT_TIMEOUT"}, Value: 180}},
		},
	}
	if err := info.ComputeTokens(tokens.SingleModule("postgresql_", "index", tokens.MakeStandard("postgresql"))); err != nil {
		fmt.Fprintln(os.Stderr, "computing tokens:", err)
		os.Exit(1)
	}
	return info
}

func main() {
	tfbridge.Main("postgresql", version, providerInfo(), nil)
}
