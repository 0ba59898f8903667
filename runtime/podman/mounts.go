package podman

import (
	"path/filepath"
	"strconv"

	spec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containers/podman/v4/pkg/specgen"

	"github.com/reconciler/reconciler/runtime"
)

// applyMounts adds a container's mounts to its spec: named volumes as
// engine volumes, host paths as recursive bind mounts and tmpfs as
// memory-backed mounts. A SubPath of a host path is resolved here; one of a
// named volume is passed to the engine.
func applyMounts(gen *specgen.SpecGenerator, ms []runtime.Mount) {
	for _, m := range ms {
		var opts []string
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		switch {
		case m.Volume != "":
			gen.Volumes = append(gen.Volumes, &specgen.NamedVolume{
				Name: m.Volume, Dest: m.Destination, Options: opts, SubPath: m.SubPath,
			})
		case m.HostPath != "":
			gen.Mounts = append(gen.Mounts, spec.Mount{
				Type: "bind", Source: filepath.Join(m.HostPath, m.SubPath),
				Destination: m.Destination, Options: append(opts, "rbind"),
			})
		case m.Tmpfs:
			if m.SizeBytes > 0 {
				opts = append(opts, "size="+strconv.FormatInt(m.SizeBytes, 10))
			}
			gen.Mounts = append(gen.Mounts, spec.Mount{
				Type: "tmpfs", Source: "tmpfs", Destination: m.Destination, Options: opts,
			})
		}
	}
}
