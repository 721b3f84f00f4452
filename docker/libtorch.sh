#!/bin/sh
# Unpacks libtorch from DJL's native jar into a folder of its own, at image build time.
#
#   docker/libtorch.sh FLAVOR OUT_DIR JAR_DIR
#
# JAR_DIR holds exactly one ai.djl.pytorch:pytorch-native-<flavour> jar (classifier linux-x86_64), resolved by the
# Maven build from Maven Central like every other dependency (checksum-verified): pytorch-native-cpu by default,
# pytorch-native-cu124 with -Pgpu. The jar's libraries for FLAVOR (cpu, cu124) go to OUT_DIR, exactly the files its
# native/lib/pytorch.properties lists: DJL loads every file of that folder.
#
# At run time the image sets PYTORCH_LIBRARY_PATH=OUT_DIR and PYTORCH_FLAVOR=FLAVOR: DJL loads libtorch from there
# instead of extracting the jar into its cache at every container start (450 MB for the CPU build, several GB for
# the CUDA one, which would not fit the pods' /tmp), and never downloads anything. Only DJL's small JNI library
# (from the pytorch-jni jar) is still unpacked into DJL_CACHE_DIR (/tmp) at start.
set -eu

if [ "$#" -ne 3 ]; then
  echo "usage: $0 FLAVOR OUT_DIR JAR_DIR" >&2
  exit 2
fi
flavor="$1"
out="$2"
jars="$3"

set -- "$jars"/pytorch-native-*-linux-x86_64.jar
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
  echo "libtorch.sh: expected one pytorch-native-*-linux-x86_64.jar in $jars, found: $*" >&2
  exit 1
fi
jar="$1"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# `jar` (any JDK, e.g. the Maven build image) rather than unzip, which such images may lack.
(cd "$work" && jar xf "$jar" native/lib/pytorch.properties)
props="$work/native/lib/pytorch.properties"
if [ ! -f "$props" ]; then
  echo "libtorch.sh: $jar has no native/lib/pytorch.properties: not a DJL native jar" >&2
  exit 1
fi
if ! grep -qx "flavor=$flavor" "$props"; then
  echo "libtorch.sh: $jar is flavour '$(sed -n 's/^flavor=//p' "$props")', not '$flavor'" >&2
  exit 1
fi
(cd "$work" && jar xf "$jar" "pytorch/$flavor/linux-x86_64")

mkdir -p "$out"
libraries="$(sed -n 's/^libraries=//p' "$props" | tr ',' ' ')"
for lib in $libraries; do
  mv "$work/pytorch/$flavor/linux-x86_64/$lib" "$out/"
done
if [ ! -f "$out/libtorch.so" ]; then
  echo "libtorch.sh: no libtorch.so among '$libraries' of $jar" >&2
  exit 1
fi
echo "libtorch.sh: $(sed -n 's/^version=//p' "$props") $flavor from $(basename "$jar") into $out: $libraries"
