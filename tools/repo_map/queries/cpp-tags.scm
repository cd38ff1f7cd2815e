; Definitions: the C ones plus classes, namespaces, member functions and out-of-class method definitions.
(function_declarator declarator: (identifier) @definition.function)
(function_declarator declarator: (field_identifier) @definition.method)
(function_declarator declarator: (qualified_identifier name: (identifier) @definition.method))
(struct_specifier name: (type_identifier) @definition.class body: (_))
(union_specifier name: (type_identifier) @definition.class body: (_))
(class_specifier name: (type_identifier) @definition.class body: (_))
(enum_specifier name: (type_identifier) @definition.type body: (_))
(type_definition declarator: (type_identifier) @definition.type)
(alias_declaration name: (type_identifier) @definition.type)
(namespace_definition name: (namespace_identifier) @definition.module)
(preproc_def name: (identifier) @definition.macro value: (_))
(preproc_function_def name: (identifier) @definition.macro)

; References: calls (plain, qualified and member) and every use of a type name.
(call_expression function: [
  (identifier) @reference.call
  (qualified_identifier name: (identifier) @reference.call)
  (field_expression field: (field_identifier) @reference.call)])
(type_identifier) @reference.type
