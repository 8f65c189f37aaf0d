import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import { toGeminiRequest } from './request.js';
import { geminiSchema } from './schema.js';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** The 400 a body gets, with the field it names. */
function refusal(body: Record<string, unknown>): { message: string; param: string | null } {
  try {
    toGeminiRequest(body);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 400)
      return { message: error.message, param: error.param };
    throw error;
  }
  throw new Error('no refusal');
}

describe('OpenAI chat → Gemini generateContent', () => {
  it('turns a multi-turn conversation with system, images, tools and tool results into contents', () => {
    const body = {
      model: 'gemini-vision',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'gs://bucket/cat.jpeg' } },
            { type: 'image_url', image_url: { url: 'https://example.com/dog.webp?x=1' } },
          ],
        },
        { role: 'user', content: 'And the weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'noon' },
        { role: 'assistant', content: 'A cat, a dog; 21°C at noon.' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f'] } },
              required: ['city'],
              additionalProperties: false,
              $schema: 'http://json-schema.org/draft-07/schema#',
            },
          },
        },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      temperature: 0.2,
      top_p: 0.9,
      n: 2,
      stop: 'END',
      max_tokens: 100,
      seed: 7,
      user: 'ignored-by-gemini',
    };
    expect(toGeminiRequest(body)).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in English.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these?' },
            { inlineData: { mimeType: 'image/png', data: PNG } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'gs://bucket/cat.jpeg' } },
            { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/dog.webp?x=1' } },
            // Consecutive user turns are merged: Gemini wants roles alternating.
            { text: 'And the weather in Paris?' },
          ],
        },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { name: 'get_time', args: {} } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temp_c: 21 } } },
            { functionResponse: { name: 'get_time', response: { content: 'noon' } } },
          ],
        },
        { role: 'model', parts: [{ text: 'A cat, a dog; 21°C at noon.' }] },
        { role: 'user', parts: [{ text: 'Thanks' }] },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: {
                type: 'object',
                properties: {
                  city: { type: 'string' },
                  unit: { type: 'string', nullable: true, enum: ['c', 'f'] },
                },
                required: ['city'],
              },
            },
            { name: 'get_time' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        temperature: 0.2,
        topP: 0.9,
        candidateCount: 2,
        maxOutputTokens: 100,
        seed: 7,
        stopSequences: ['END'],
      },
    });
  });

  it('maps tool_choice and response_format', () => {
    const base = { messages: [{ role: 'user', content: 'hi' }] };
    const mode = (tool_choice: unknown) =>
      (
        toGeminiRequest({ ...base, tool_choice }) as {
          toolConfig: { functionCallingConfig: { mode: string } };
        }
      ).toolConfig.functionCallingConfig.mode;
    expect([mode('auto'), mode('none'), mode('required')]).toEqual(['AUTO', 'NONE', 'ANY']);
    expect(
      toGeminiRequest({ ...base, response_format: { type: 'json_object' } })['generationConfig'],
    ).toEqual({
      responseMimeType: 'application/json',
    });
    const schema = {
      type: 'object',
      properties: { b: { type: 'integer' }, a: { $ref: '#/$defs/item' } },
      $defs: { item: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
    };
    expect(
      toGeminiRequest({
        ...base,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
      })['generationConfig'],
    ).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'object',
        properties: {
          b: { type: 'integer' },
          a: { type: 'array', items: { type: 'string', nullable: true } },
        },
        propertyOrdering: ['b', 'a'],
      },
    });
  });

  it('refuses content Gemini cannot take with a 400 naming the field', () => {
    const image = (url: string) => ({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'x' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    expect(refusal(image(`data:image/bmp;base64,${PNG}`))).toEqual({
      message: expect.stringContaining('Gemini does not take image/bmp images'),
      param: 'messages[0].content[1].image_url',
    });
    expect(refusal(image('https://example.com/photo'))).toMatchObject({
      param: 'messages[0].content[1].image_url',
    });
    expect(
      refusal({
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: '1 bad name', parameters: { type: 'object' } } }],
      }),
    ).toEqual({
      message: expect.stringContaining('not a name Gemini takes'),
      param: 'tools[0].function.name',
    });
    expect(refusal({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }).param).toBe(
      'messages[0].tool_call_id',
    );
    expect(
      refusal({
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      }).param,
    ).toBe('messages[0].tool_calls[0].function.arguments');
    expect(refusal({ messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }).param).toBe(
      'messages[0].content[0].type',
    );
  });
});

describe('geminiSchema', () => {
  it('refuses a schema that refers to itself, naming it', () => {
    const loop = {
      type: 'object',
      properties: { next: { $ref: '#/$defs/node' } },
      $defs: { node: { $ref: '#/$defs/node' } },
    };
    expect(() => geminiSchema(loop, 'tools[0].function.parameters')).toThrow(
      /tools\[0\]\.function\.parameters/,
    );
  });
});
