; Definitions: the JavaScript ones plus interfaces, type aliases, enums, namespaces and signatures.
(function_declaration name: (identifier) @definition.function)
(generator_function_declaration name: (identifier) @definition.function)
(class_declaration name: (type_identifier) @definition.class)
(abstract_class_declaration name: (type_identifier) @definition.class)
(method_definition name: (property_identifier) @definition.method)
(variable_declarator name: (identifier) @definition.function value: [(arrow_function) (function_expression)])
(interface_declaration name: (type_identifier) @definition.interface)
(type_alias_declaration name: (type_identifier) @definition.type)
(enum_declaration name: (identifier) @definition.enum)
(function_signature name: (identifier) @definition.function)
(method_signature name: (property_identifier) @definition.method)
(abstract_method_signature name: (property_identifier) @definition.method)
(internal_module name: (identifier) @definition.module)

; References: calls, constructions, base classes and every use of a type name.
(call_expression function: [(identifier) @reference.call (member_expression property: (property_identifier) @reference.call)])
(new_expression constructor: (identifier) @reference.class)
(extends_clause value: (identifier) @reference.class)
(type_identifier) @reference.type
