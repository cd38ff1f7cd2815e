; Definitions: functions (definitions and prototypes), structs, unions, enums, typedefs and macros
; (a #define without a value is an include guard or a flag, not worth a line).
(function_declarator declarator: (identifier) @definition.function)
(struct_specifier name: (type_identifier) @definition.class body: (_))
(union_specifier name: (type_identifier) @definition.class body: (_))
(enum_specifier name: (type_identifier) @definition.type body: (_))
(type_definition declarator: (type_identifier) @definition.type)
(preproc_def name: (identifier) @definition.macro value: (_))
(preproc_function_def name: (identifier) @definition.macro)

; References: calls and every use of a type name.
(call_expression function: (identifier) @reference.call)
(type_identifier) @reference.type
