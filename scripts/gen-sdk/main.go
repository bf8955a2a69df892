// Command gen-sdk writes the Python and Go SDKs of the shared-tunnel provider plugin from its
// schema (dist/provider/plugin/schema.json), with Pulumi's own generators at the version the
// project's CLI is built from. Why not `pulumi package gen-sdk`: in this CLI it hands generation
// to each language's host, whose Go modules the proxy here does not serve; the generators
// themselves are plain packages of pkg/v3.
//
//	gen-sdk -schema schema.json -out sdk -pulumi-sdk v3.274.1
//
// writes OUT/python and OUT/go afresh (each emptied first, so a file the generator no longer
// writes does not linger).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"golang.org/x/mod/modfile"
)

// The name the generated files' headers give as their generator.
const tool = "pulumi-shared-tunnel gen-sdk"

// refusingLoader answers every request for another package with an error: our schema refers to
// no other package, and a generator that went looking for one would reach for plugins or the
// network, neither of which a build here may depend on.
type refusingLoader struct{}

func refused(name string) error {
	return fmt.Errorf("gen-sdk: the schema refers to package %q; external references are refused", name)
}

func (refusingLoader) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, refused(pkg)
}

func (refusingLoader) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, refused(d.Name)
}

func (refusingLoader) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, refused(pkg)
}

func (refusingLoader) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, refused(d.Name)
}

func main() {
	schemaPath := flag.String("schema", "", "the plugin's schema.json")
	out := flag.String("out", "", "the directory that receives python/ and go/")
	pulumiSDK := flag.String("pulumi-sdk", "", "the github.com/pulumi/pulumi/sdk/v3 version the Go SDK's go.mod requires")
	flag.Parse()
	if *schemaPath == "" || *out == "" || *pulumiSDK == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*schemaPath, *out, *pulumiSDK); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(schemaPath, out, pulumiSDK string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("gen-sdk: %s: %w", schemaPath, err)
	}
	languages := map[string]schema.Language{"python": python.Importer, "go": gogen.Importer}
	pkg, err := schema.ImportSpec(spec, languages, refusingLoader{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("gen-sdk: binding %s: %w", schemaPath, err)
	}

	pyFiles, err := python.GeneratePackage(tool, pkg, nil, refusingLoader{})
	if err != nil {
		return fmt.Errorf("gen-sdk: python: %w", err)
	}
	// pyproject.toml names a README.md beside it, which the generator leaves to a packing step:
	// the package's own (the schema's description) is that readme.
	if info, ok := pkg.Language["python"].(python.PackageInfo); ok && info.PackageName != "" {
		pyFiles["README.md"] = pyFiles[info.PackageName+"/README.md"]
	}
	goFiles, err := gogen.GeneratePackage(tool, pkg, nil)
	if err != nil {
		return fmt.Errorf("gen-sdk: go: %w", err)
	}
	// The generator's go.mod names the SDK version it was released beside; ours must build with
	// the modules the project's CLI is built from.
	if goFiles["go.mod"], err = pinPulumiSDK(goFiles["go.mod"], pulumiSDK); err != nil {
		return err
	}
	if err := write(filepath.Join(out, "python"), pyFiles); err != nil {
		return err
	}
	return write(filepath.Join(out, "go"), goFiles)
}

func pinPulumiSDK(gomod []byte, version string) ([]byte, error) {
	if gomod == nil {
		return nil, errors.New("gen-sdk: the Go generator wrote no go.mod (is meta.supportPack set in the schema?)")
	}
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return nil, err
	}
	if err := f.AddRequire("github.com/pulumi/pulumi/sdk/v3", version); err != nil {
		return nil, err
	}
	return f.Format()
}

func write(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
