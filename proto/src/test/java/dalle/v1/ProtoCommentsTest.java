package dalle.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every service, rpc, message, enum, oneof, field and enum value in the contract has a comment. */
class ProtoCommentsTest {

    /** Declarations that have no {@code //} line directly above them, as "file:line kind name". */
    static List<String> uncommented(Path file, List<String> lines) {
        List<String> missing = new ArrayList<>();
        for (ProtoSource.Declaration d : ProtoSource.declarations(file, lines)) {
            if (d.comment().isEmpty() || d.comment().stream().allMatch(String::isEmpty)) {
                missing.add(d.toString());
            }
        }
        return missing;
    }

    @Test
    void everyDeclarationInTheContractIsPrecededByAComment() {
        List<String> missing = new ArrayList<>();
        int declarations = 0;
        for (Path file : ProtoSource.files()) {
            List<String> lines = ProtoSource.lines(file);
            declarations += ProtoSource.declarations(file, lines).size();
            missing.addAll(uncommented(file, lines));
        }
        assertTrue(declarations > 100, "the checker found only " + declarations + " declarations");
        assertEquals(List.of(), missing, "declarations without a comment line directly above");
    }

    @Test
    void checkerReportsExactlyTheUncommentedDeclarations() {
        List<String> lines = List.of(
                "syntax = \"proto3\";",
                "option java_package = \"dalle.v1\";",
                "// A service.",
                "service S {",
                "  rpc Bare(A) returns (A);",
                "}",
                "// A message.",
                "message A {",
                "  // Documented.",
                "  int32 documented = 1;",
                "  repeated string bare_field = 2;",
                "  // A detached comment does not count.",
                "",
                "  optional int64 detached = 3;",
                "  map<string, int32> bare_map = 4;",
                "  oneof bare_oneof {",
                "    // Documented alternative.",
                "    A nested = 5;",
                "  }",
                "}",
                "enum BareEnum {",
                "  // Documented value.",
                "  BARE_ENUM_UNSPECIFIED = 0;",
                "  BARE_ENUM_ONE = 1;",
                "}");

        List<String> missing = uncommented(Path.of("x.proto"), lines);

        assertEquals(List.of(
                "x.proto:5 rpc Bare",
                "x.proto:11 field bare_field",
                "x.proto:14 field detached",
                "x.proto:15 field bare_map",
                "x.proto:16 oneof bare_oneof",
                "x.proto:21 enum BareEnum",
                "x.proto:24 value BARE_ENUM_ONE"), missing);
    }
}
