"""narwhal_fuzz_harness: one harness = a library, a fuzzer, a replay test.

For harness `foo` (sources define `extern const Harness kFooHarness`):
  :foo_harness      cc_library with the checks (and the seeds)
  :foo_fuzzer       under --config=fuzz: the libFuzzer binary (clang);
                    otherwise: a runner of the checks on files given as
                    arguments (gcc), so `bazel build //...` builds it too
  :foo_replay_test  gtest: corpus/foo, regressions/foo and fresh seeds
"""

def narwhal_fuzz_harness(name, symbol, srcs, deps, size = "small"):
    native.cc_library(
        name = name + "_harness",
        srcs = srcs,
        deps = deps + [
            ":harness",
            "//third_party:glog",
        ],
        alwayslink = True,
    )
    define = ["NARWHAL_HARNESS=" + symbol]
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = select({
            ":fuzzing": ["fuzzer_main.cc"],
            "//conditions:default": ["replay_main.cc"],
        }),
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        local_defines = define,
        deps = [
            ":" + name + "_harness",
            ":harness",
            "//third_party:glog",
        ],
    )
    native.cc_test(
        name = name + "_replay_test",
        size = size,
        srcs = ["replay_test.cc"],
        local_defines = define,
        data = native.glob([
            "corpus/" + name + "/**",
            "regressions/" + name + "/**",
        ]),
        deps = [
            ":" + name + "_harness",
            ":harness",
            "//third_party:glog",
            "//third_party:gtest_main",
        ],
    )
