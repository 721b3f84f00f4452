package dalle.core.tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dalle.core.io.CheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} for {@link BpeTokenizer}: what it writes loads in
 * tokenizers 0.2x (merges as {@code "left right"} strings, accepted by every version), and what
 * it reads must describe a tokenizer whose ids it can reproduce exactly, so anything else
 * (another model, normalizer or pre-tokenizer, dropout, truncation, padding, extra added tokens)
 * is refused rather than silently encoded differently.
 */
final class TokenizerJson {

    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .serializeNulls()
            .create();

    private TokenizerJson() {}

    static void write(Path path, BpeTokenizer tokenizer) throws IOException {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonObject pad = new JsonObject();
        pad.addProperty("id", tokenizer.padId());
        pad.addProperty("content", BpeTokenizer.PAD);
        pad.addProperty("single_word", false);
        pad.addProperty("lstrip", false);
        pad.addProperty("rstrip", false);
        pad.addProperty("normalized", false);
        pad.addProperty("special", true);
        JsonArray added = new JsonArray();
        added.add(pad);
        root.add("added_tokens", added);
        JsonObject normalizer = new JsonObject();
        normalizer.addProperty("type", "Lowercase");
        root.add("normalizer", normalizer);
        root.add("pre_tokenizer", byteLevel());
        root.add("post_processor", JsonNull.INSTANCE);
        root.add("decoder", byteLevel());

        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        JsonObject vocab = new JsonObject();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            vocab.addProperty(tokenizer.token(id), id);
        }
        model.add("vocab", vocab);
        JsonArray merges = new JsonArray();
        for (String[] merge : tokenizer.merges()) {
            merges.add(merge[0] + " " + merge[1]);
        }
        model.add("merges", merges);
        root.add("model", model);

        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(path, GSON.toJson(root) + "\n", StandardCharsets.UTF_8);
    }

    private static JsonObject byteLevel() {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", false);
        o.addProperty("trim_offsets", true);
        o.addProperty("use_regex", true);
        return o;
    }

    static BpeTokenizer read(Path path) {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, "no such file");
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot read: " + e, e);
        }
        JsonObject root;
        try {
            root = JsonParser.parseString(text).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException(path, "not a JSON object: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException | IllegalStateException | ClassCastException | NullPointerException
                | UnsupportedOperationException e) {
            throw new CheckpointException(path, e.getMessage(), e);
        }
    }

    private static BpeTokenizer parse(JsonObject root) {
        JsonObject model = object(root, "model");
        require(model != null, "no \"model\"");
        String type = string(model, "type", "BPE");
        require("BPE".equals(type), "model type " + type + " is not BPE");
        require(isNull(root, "truncation"), "truncation is set; ids would depend on it");
        require(isNull(root, "padding"), "padding is set; ids would depend on it");
        JsonObject normalizer = object(root, "normalizer");
        require(normalizer != null && "Lowercase".equals(string(normalizer, "type", null)),
                "normalizer must be Lowercase, found " + normalizer);
        JsonObject pre = object(root, "pre_tokenizer");
        require(pre != null && "ByteLevel".equals(string(pre, "type", null))
                        && !bool(pre, "add_prefix_space", true) && bool(pre, "use_regex", true),
                "pre_tokenizer must be ByteLevel with add_prefix_space false and use_regex true, found " + pre);
        JsonObject decoder = object(root, "decoder");
        require(decoder == null || "ByteLevel".equals(string(decoder, "type", null)),
                "decoder must be ByteLevel, found " + decoder);
        JsonObject post = object(root, "post_processor");
        require(post == null || "ByteLevel".equals(string(post, "type", null)),
                "post_processor must be absent or ByteLevel, found " + post);
        require(isNull(model, "dropout") || model.get("dropout").getAsDouble() == 0.0,
                "model dropout is set; encoding would be random");
        require(isNull(model, "continuing_subword_prefix") || string(model, "continuing_subword_prefix", "").isEmpty(),
                "continuing_subword_prefix is not supported");
        require(isNull(model, "end_of_word_suffix") || string(model, "end_of_word_suffix", "").isEmpty(),
                "end_of_word_suffix is not supported");
        require(!bool(model, "byte_fallback", false), "byte_fallback is not supported");
        require(!bool(model, "ignore_merges", false), "ignore_merges is not supported");

        JsonElement addedElement = root.get("added_tokens");
        require(addedElement != null && addedElement.isJsonArray() && addedElement.getAsJsonArray().size() == 1,
                "added_tokens must hold exactly " + BpeTokenizer.PAD);
        JsonObject pad = addedElement.getAsJsonArray().get(0).getAsJsonObject();
        require(BpeTokenizer.PAD.equals(string(pad, "content", null)) && pad.get("id").getAsInt() == 0
                        && bool(pad, "special", false) && !bool(pad, "normalized", true)
                        && !bool(pad, "single_word", false) && !bool(pad, "lstrip", false) && !bool(pad, "rstrip", false),
                "added token must be " + BpeTokenizer.PAD + " at id 0, special and not normalized, found " + pad);

        JsonObject vocabObject = object(model, "vocab");
        require(vocabObject != null, "model has no vocab");
        String[] vocab = new String[vocabObject.size()];
        for (Map.Entry<String, JsonElement> entry : vocabObject.entrySet()) {
            int id = entry.getValue().getAsInt();
            require(id >= 0 && id < vocab.length && vocab[id] == null,
                    "vocab id " + id + " of '" + entry.getKey() + "' is repeated or outside [0, " + vocab.length + ")");
            vocab[id] = entry.getKey();
        }
        JsonElement mergesElement = model.get("merges");
        require(mergesElement != null && mergesElement.isJsonArray(), "model has no merges array");
        List<String[]> merges = new ArrayList<>();
        for (JsonElement merge : mergesElement.getAsJsonArray()) {
            String[] parts;
            if (merge.isJsonArray()) {
                JsonArray pair = merge.getAsJsonArray();
                parts = pair.size() == 2 ? new String[] {pair.get(0).getAsString(), pair.get(1).getAsString()} : null;
            } else {
                parts = merge.getAsString().split(" ", -1);
            }
            require(parts != null && parts.length == 2, "merge " + merge + " is not two tokens");
            merges.add(parts);
        }
        return new BpeTokenizer(Arrays.asList(vocab), merges);
    }

    private static void require(boolean condition, String reason) {
        if (!condition) {
            throw new IllegalArgumentException(reason);
        }
    }

    private static boolean isNull(JsonObject o, String field) {
        return !o.has(field) || o.get(field).isJsonNull();
    }

    private static JsonObject object(JsonObject o, String field) {
        return isNull(o, field) ? null : o.get(field).getAsJsonObject();
    }

    private static String string(JsonObject o, String field, String absent) {
        return isNull(o, field) ? absent : o.get(field).getAsString();
    }

    private static boolean bool(JsonObject o, String field, boolean absent) {
        if (isNull(o, field)) {
            return absent;
        }
        JsonPrimitive p = o.get(field).getAsJsonPrimitive();
        require(p.isBoolean(), field + " is not a boolean: " + p);
        return p.getAsBoolean();
    }
}
