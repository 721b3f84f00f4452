package dalle.services.gateway.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * Integer fields of the HTTP bodies ({@code n}, {@code candidates}, {@code seed}, {@code sampling.top_k}) take only
 * integers: Jackson's default truncates {@code "n": 1.5} to 1 and answers as if the caller had asked for one image.
 * A fractional number is a 400 naming the field instead, as OpenAI's API answers it.
 */
@Singleton
public class JsonNumbers implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    }
}
