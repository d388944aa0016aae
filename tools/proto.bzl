"""cc_proto: compile .proto files with Debian's system protoc (no downloads)."""

def cc_proto(name, srcs, deps = [], visibility = None):
    """A cc_library built from `srcs` (.proto files in this package).

    Imports resolve from the workspace root, so `import "core/x.proto";` works.
    """
    hdrs = [s[:-len(".proto")] + ".pb.h" for s in srcs]
    ccs = [s[:-len(".proto")] + ".pb.cc" for s in srcs]
    pkg = native.package_name()
    native.genrule(
        name = name + "_protoc",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = hdrs + ccs,
        cmd = "protoc --proto_path=. --cpp_out=$(GENDIR) " +
              " ".join([pkg + "/" + s for s in srcs]),
    )
    native.filegroup(name = name + "_srcs", srcs = srcs, visibility = visibility)
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )
