; Definitions: classes, interfaces, enums, records, methods and constructors.
(class_declaration name: (identifier) @definition.class)
(interface_declaration name: (identifier) @definition.interface)
(enum_declaration name: (identifier) @definition.enum)
(record_declaration name: (identifier) @definition.class)
(method_declaration name: (identifier) @definition.method)
(constructor_declaration name: (identifier) @definition.method)

; References: method calls, constructions and every use of a type name.
(method_invocation name: (identifier) @reference.call)
(object_creation_expression type: (type_identifier) @reference.class)
(type_identifier) @reference.type
