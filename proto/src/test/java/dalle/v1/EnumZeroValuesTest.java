package dalle.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Every enum's zero value is {@code <ENUM_NAME>_UNSPECIFIED}, so an unset field never means something. */
class EnumZeroValuesTest {

    @Test
    void everyEnumHasAnUnspecifiedZeroValueNamedAfterTheEnum() {
        List<String> wrong = new ArrayList<>();
        List<EnumDescriptor> enums = allEnums();
        for (EnumDescriptor e : enums) {
            String expected = upperSnake(e.getName()) + "_UNSPECIFIED";
            String actual = e.findValueByNumber(0) == null ? "(none)" : e.findValueByNumber(0).getName();
            if (!actual.equals(expected)) {
                wrong.add(e.getFullName() + ": value 0 is " + actual + ", expected " + expected);
            }
        }
        assertTrue(enums.size() >= 4, "found only " + enums.size() + " enums");
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyProtoFileHasAGeneratedDescriptorInPackageDalleV1() {
        Set<String> onDisk = new TreeSet<>();
        Set<String> described = new TreeSet<>();
        for (Path file : ProtoSource.files()) {
            onDisk.add(ProtoSource.ROOT.relativize(file).toString().replace('\\', '/'));
            FileDescriptor descriptor = ProtoSource.descriptor(file);
            described.add(descriptor.getName());
            assertEquals("dalle.v1", descriptor.getPackage(), descriptor.getName());
        }
        assertEquals(onDisk, described);
    }

    /** Every enum of every .proto file, top-level and nested in messages. */
    static List<EnumDescriptor> allEnums() {
        List<EnumDescriptor> enums = new ArrayList<>();
        for (Path file : ProtoSource.files()) {
            FileDescriptor descriptor = ProtoSource.descriptor(file);
            enums.addAll(descriptor.getEnumTypes());
            descriptor.getMessageTypes().forEach(m -> collectNested(m, enums));
        }
        return enums;
    }

    private static void collectNested(Descriptor message, List<EnumDescriptor> into) {
        into.addAll(message.getEnumTypes());
        message.getNestedTypes().forEach(m -> collectNested(m, into));
    }

    /** {@code JobState} -> {@code JOB_STATE}. */
    static String upperSnake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    }
}
